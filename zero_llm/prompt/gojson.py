r"""Go's ``encoding/json`` output, byte for byte, for the values Ollama marshals into prompts.

In: Python values standing for Go values (``dict`` a ``map[string]any``, which Go writes
with sorted keys; ``OrderedObject`` an ordered map, written in insertion order; ``GoJSON``
structs that say their own fields). Out: the text ``json.Marshal`` returns: no spaces,
``<``, ``>``, ``&``, U+2028 and U+2029 escaped, control characters as ``\\u00XX`` (or
``\\b \\f \\n \\r \\t``), numbers as Go writes a float64.
"""

from __future__ import annotations

from typing import Any

from zero_llm.prompt.gotemplate import format_json_float

__all__ = ["GoJSON", "OrderedObject", "go_json"]


class OrderedObject(dict[str, Any]):
    """A JSON object Go writes in insertion order (Ollama's ordered maps)."""


class GoJSON:
    """A Go struct with JSON tags: ``json_fields`` gives (key, attribute, omitempty)."""

    json_fields: tuple[tuple[str, str, bool], ...] = ()

    def json_value(self) -> OrderedObject:
        """The object ``json.Marshal`` writes for this struct (omitempty fields dropped)."""
        out = OrderedObject()
        for key, attribute, omitempty in self.json_fields:
            value = getattr(self, attribute)
            if omitempty and _empty(value):
                continue
            out[key] = value
        return out


def _empty(value: Any) -> bool:
    if value is None or value is False:
        return True
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value == 0
    if isinstance(value, str | list | tuple | dict):
        return len(value) == 0
    return False


_SHORT = {"\\": "\\\\", '"': '\\"', "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_ESCAPE = {
    **{chr(c): f"\\u{c:04x}" for c in range(0x20)},
    **_SHORT,
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_TABLE = str.maketrans(_ESCAPE)


def _string(text: str) -> str:
    # a lone surrogate cannot be UTF-8: Go writes U+FFFD for invalid bytes
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        text = "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
    return '"' + text.translate(_TABLE) + '"'


def go_json(value: Any) -> str:
    """The text Go's ``json.Marshal`` writes for ``value``."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, GoJSON):
        return go_json(value.json_value())
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_json_float(value)
    if isinstance(value, OrderedObject):
        return "{" + ",".join(f"{_string(k)}:{go_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda kv: str(kv[0]).encode("utf-8"))
        return "{" + ",".join(f"{_string(str(k))}:{go_json(v)}" for k, v in items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(go_json(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as Go JSON")
