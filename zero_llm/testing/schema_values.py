"""Values the emulator fills in from a prompt's text: tool-call arguments and schema answers.

In: a JSON schema (a tool's ``parameters``, or a request's ``format``) and the text that leads
the choice (the last user message, or the tool results after them). Out: a small value that
validates against the schema, picked as the tool rule of ``zero_llm.testing.tools`` reads
text (``param=value`` pairs, ``name(v1, v2)``, enum values and tool names the text names,
quoted phrases), and the answer text of a request with ``format`` (JSON mode or a schema).
Arguments and schemas nest in each other (a tool-or-answer schema holds tool calls whose
arguments are schemas), so both live here. Pure functions.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from typing import Any

from zero_llm.testing.catalog import gist

__all__ = [
    "FILLER_WORDS",
    "GENERIC_VERBS",
    "arguments_for",
    "distinctive_words",
    "first_position",
    "instance_of_schema",
    "json_mode_object",
    "pair_value",
    "structured_answer",
]


GENERIC_VERBS = frozenset(
    {"get", "fetch", "call", "run", "make", "do", "find", "lookup", "look", "query", "retrieve"}
)
"""Verbs dropped from the front of a tool's name before its words are matched."""


FILLER_WORDS = frozenset(
    {"tool", "tools", "function", "func", "fn", "my", "the", "a", "an", "of", "to", "for", "no"}
    | {"and", "with", "by", "args", "arg", "in", "on"}
)
"""Words of a tool's name too common to pick a tool by."""


_QUOTED = re.compile(r"(?<!\w)'([^'\n]+)'(?!\w)|\"([^\"\n]+)\"|\u201c([^\u201d]+)\u201d")


_WORD_SPLIT = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def distinctive_words(name: str) -> list[str]:
    """The words of a tool's name that pick it: split, lower-cased, generic words dropped."""
    words = [w.lower() for part in name.split("_") for w in _WORD_SPLIT.findall(part)]
    if len(words) > 1 and words[0] in GENERIC_VERBS:
        words = words[1:]
    return [w for w in words if w not in FILLER_WORDS and len(w) > 1]


def first_position(pattern: str, text: str) -> int | None:
    """Where ``pattern`` first appears in the text as a whole word (any case), else None."""
    found = re.search(rf"(?<![\w]){pattern}(?![\w])", text, re.IGNORECASE)
    return found.start() if found else None


def pair_value(param: str, text: str, schema: dict[str, Any]) -> Any:
    """The value a ``param=value`` pair in the text gives a parameter, converted; else None."""
    raw = _pair_value(param, text)
    return None if raw is None else _convert(raw, schema)


def arguments_for(name: str, parameters: dict[str, Any], text: str) -> dict[str, Any]:
    """A call's arguments by rule 3: pairs, then ``name(v1, ...)``, enums, quotes, schema."""
    properties: dict[str, Any] = parameters.get("properties") or {}
    required = [p for p in properties if p in (parameters.get("required") or [])]
    defs = parameters.get("$defs") or parameters.get("defs") or {}
    positional = _positional_values(name, text)
    order = list(properties)
    quoted = _first_quoted(text)
    arguments: dict[str, Any] = {}
    for param in required:
        schema = _resolve(properties[param], defs)
        value: Any = None
        raw = _pair_value(param, text)
        if raw is None and order.index(param) < len(positional):
            raw = positional[order.index(param)]
        if raw is not None:
            value = _convert(raw, schema)
        enum = schema.get("enum")
        if value is None and isinstance(enum, list) and enum:
            value = _named_enum_value(enum, text)
        if value is None and quoted is not None and _type(schema) == "string":
            value = quoted
        if value is None:
            value = instance_of_schema({**schema, "$defs": defs} if defs else schema, text)
        arguments[param] = value
    return arguments


def _named_enum_value(enum: list[Any], text: str) -> Any:
    """The enum value the text names first (a whole word, any case), else the first value."""
    found = [
        (position, i)
        for i, value in enumerate(enum)
        if (position := first_position(re.escape(str(value)), text)) is not None
    ]
    return enum[min(found)[1]] if found else enum[0]


def _resolve(schema: Any, defs: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(schema, dict):
        return {}
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return _resolve(defs.get(ref.rsplit("/", 1)[-1], {}), defs)
    return schema


def _type(schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind is None and "enum" not in schema:
        for key in ("anyOf", "oneOf"):
            options = schema.get(key)
            if options:
                return _type(options[0]) if isinstance(options[0], dict) else None
    return kind if isinstance(kind, str) else None


def _first_quoted(text: str) -> str | None:
    found = _QUOTED.search(text)
    if found is None:
        return None
    return next(g for g in found.groups() if g is not None)


def _pair_value(param: str, text: str) -> str | None:
    found = re.search(rf"(?<![\w]){re.escape(param)}\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s,;)]+)", text)
    if found is None:
        return None
    value = found.group(1)
    return value[1:-1] if value[:1] in "\"'" and len(value) > 1 else value


def _positional_values(name: str, text: str) -> list[str]:
    found = re.search(rf"(?<![\w]){re.escape(name)}\(([^()]*)\)", text)
    if found is None or not found.group(1).strip():
        return []
    values = [v.strip() for v in found.group(1).split(",")]
    return [v[1:-1] if v[:1] in "\"'" and len(v) > 1 else v for v in values]


def _convert(raw: str, schema: dict[str, Any]) -> Any:
    kind = _type(schema)
    enum = schema.get("enum")
    try:
        if kind == "integer":
            value: Any = int(raw)
        elif kind == "number":
            value = float(raw)
        elif kind == "boolean":
            if raw.lower() not in ("true", "false"):
                return None
            value = raw.lower() == "true"
        elif kind in ("object", "array"):
            value = json.loads(raw)
            if not isinstance(value, dict if kind == "object" else list):
                return None
        else:
            value = raw
    except ValueError:
        return None
    if enum and value not in enum:
        return None
    return value


def instance_of_schema(schema: Any, seed_text: str) -> Any:
    """Build a small value that validates against a JSON schema (for ``format`` and tool args).

    Deterministic, and led by the text as the tool rule is: ``$ref`` into ``$defs``/
    ``definitions`` followed; ``const``; an ``enum``: the first of its values the seed text
    names (a whole word, any case), else its first value; ``anyOf``/``oneOf``: the first option
    with an enum or const string the seed text names (whole, or a distinctive word of it as
    the tool rule reads tool names), else the first option holding no enum or
    const string at all (a free answer), else the first option; so a schema offering "calls to
    these tools" or "a final answer" calls a tool the text names and otherwise answers;
    ``allOf``: the options merged; an
    object gets every property (a ``name=value`` pair in the text gives its value, and the
    ``arguments`` of a ``{"name": <tool>, "arguments": ...}`` call are filled by the tool
    rule) (required ones included, nested objects and arrays built the
    same way) and a string for a required name without a property schema; an array
    ``max(1, minItems)`` items (at most ``maxItems``); numbers the middle of their bounds
    (exclusive bounds kept out, ``multipleOf`` respected); strings the gist of the seed text
    fitted to ``minLength``/``maxLength``, or a valid ``date``, ``date-time``, ``time``,
    ``email``, ``uri`` or ``uuid`` for those formats. A ``pattern`` is not followed.
    """
    if not isinstance(schema, dict):
        return {"answer": gist(seed_text, 12)}
    defs = {**(schema.get("definitions") or {}), **(schema.get("$defs") or {})}

    def resolve(node: Any) -> dict[str, Any]:
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            node = defs.get(node["$ref"].rsplit("/", 1)[-1], {})
        return node if isinstance(node, dict) else {}

    def merged(node: dict[str, Any]) -> dict[str, Any]:
        if not node.get("allOf"):
            return node
        out = {k: v for k, v in node.items() if k != "allOf"}
        for part in node["allOf"]:
            part = merged(resolve(part))
            props = {**(out.get("properties") or {}), **(part.get("properties") or {})}
            required = [*(out.get("required") or []), *(part.get("required") or [])]
            out = {**part, **out, "properties": props, "required": required}
        return out

    def names(raw: Any, depth: int = 0) -> list[str]:
        """The enum and const strings anywhere inside a schema."""
        node = resolve(raw)
        if depth > 8 or not node:
            return []
        found = [v for v in node.get("enum") or [] if isinstance(v, str)]
        if isinstance(node.get("const"), str):
            found.append(node["const"])
        children = [*(node.get("properties") or {}).values(), node.get("items")]
        for key in ("anyOf", "oneOf", "allOf"):
            children += node.get(key) or []
        for child in children:
            if isinstance(child, dict):
                found += names(child, depth + 1)
        return found

    def choose(options: list[Any]) -> Any:
        named = [o for o in options if any(_picks(v, seed_text) for v in names(o))]
        if named:
            return named[0]
        return next((o for o in options if not names(o)), options[0])

    def build(raw: Any) -> Any:
        node = merged(resolve(raw))
        if "const" in node:
            return node["const"]
        if isinstance(node.get("enum"), list) and node["enum"]:
            return _named_first(node["enum"], seed_text)
        for key in ("anyOf", "oneOf"):
            if node.get(key):
                return build(choose(node[key]))
        kind = node.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind is None:
            kind = "object" if "properties" in node else "array" if "items" in node else "string"
        if kind == "object":
            props = node.get("properties") or {}
            value: dict[str, Any] = {}
            for name, sub in props.items():  # a ``name=value`` pair in the text wins
                called = value.get("name")
                if name == "arguments" and isinstance(called, str):
                    # a tool call's shape ({"name": <tool>, "arguments": {...}}): the
                    # arguments as the tool rule fills them
                    value[name] = arguments_for(called, merged(resolve(sub)), seed_text)
                    continue
                given = pair_value(name, seed_text, merged(resolve(sub)))
                value[name] = build(sub) if given is None else given
            for name in node.get("required") or []:
                value.setdefault(name, gist(seed_text, 8) or "text")
            return value
        if kind == "array":
            count = max(1, int(node.get("minItems", 1)))
            if "maxItems" in node:
                count = min(count, int(node["maxItems"]))
            return [build(node.get("items", {"type": "string"})) for _ in range(count)]
        if kind in ("number", "integer"):
            return _number_in(node, kind == "integer")
        if kind == "boolean":
            return True
        if kind == "null":
            return None
        return _string_for(node, seed_text)

    return build(schema)


def _named(value: str, text: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(value)}(?!\w)", text, re.IGNORECASE) is not None


def _picks(value: str, text: str) -> bool:
    """Whether the text names a value, whole or by a distinctive word of it.

    The tool rule reads tool names this way: ``get_price`` for "what is the price ...".
    """
    return _named(value, text) or any(_named(w, text) for w in distinctive_words(value))


def _named_first(values: list[Any], text: str) -> Any:
    """The value the text names first (a whole word, any case), else the first value."""
    found = [
        (position.start(), i)
        for i, value in enumerate(values)
        if isinstance(value, str)
        and (position := re.search(rf"(?<!\w){re.escape(value)}(?!\w)", text, re.IGNORECASE))
    ]
    return values[min(found)[1]] if found else values[0]


def _number_in(node: dict[str, Any], integer: bool) -> int | float:
    lowest, highest = (
        node.get("minimum", node.get("exclusiveMinimum")),
        node.get("maximum", node.get("exclusiveMaximum")),
    )
    low = float(lowest) if lowest is not None else None
    high = float(highest) if highest is not None else None
    if low is None:
        low = high - 10 if high is not None else 0.0
    if high is None:
        high = low + 10
    middle = (low + high) / 2
    step = node.get("multipleOf") or (1 if integer else None)
    if not step:
        return middle
    value = math.ceil(middle / step) * step
    if value > high or ("exclusiveMaximum" in node and value >= high):
        value = math.floor(middle / step) * step
    return int(value) if integer else float(value)


_FORMATS = {
    "date": "2026-01-01",
    "date-time": "2026-01-01T00:00:00Z",
    "time": "00:00:00Z",
    "email": "user@example.com",
    "uri": "https://example.com/",
    "uuid": "00000000-0000-4000-8000-000000000000",
}


def _string_for(node: dict[str, Any], seed_text: str) -> str:
    if node.get("format") in _FORMATS:
        return _FORMATS[node["format"]]
    text = gist(seed_text, 8) or "text"
    if node.get("maxLength") is not None:
        text = text[: int(node["maxLength"])]
    return text.ljust(int(node.get("minLength", 0)), "x")


_QUOTED_KEY = re.compile(r"(?<!\w)'([^'\n]+)'(?!\w)|\"([^\"\n]+)\"")


def json_mode_object(seed_text: str) -> dict[str, str]:
    """JSON mode's object: the keys named in quotes in the text (string values), else ``answer``."""
    keys = [next(g for g in m.groups() if g) for m in _QUOTED_KEY.finditer(seed_text)]
    if not keys:
        return {"answer": gist(seed_text, 12)}
    summary = gist(seed_text, 8)
    return {key: f"{key}: {summary}" for key in dict.fromkeys(keys)}


def structured_answer(format_: Any, messages: Sequence[dict[str, Any]]) -> str:
    """The answer text for a request with ``format``: JSON fitting the schema, or JSON mode.

    The schema's seed text is the last message's content, or, after tool results, those
    results: so a tool-or-answer schema answers once the tools have spoken.
    """
    last = next((m for m in reversed(messages) if m.get("role") == "user"), None)
    seed = str(last.get("content") or "") if last else ""
    if format_ == "json":
        return json.dumps(json_mode_object(seed), ensure_ascii=False)
    trailing: list[str] = []
    for m in reversed(messages):
        if m.get("role") != "tool":
            break
        trailing.insert(0, str(m.get("content") or ""))
    return json.dumps(instance_of_schema(format_, "\n".join(trailing) or seed), ensure_ascii=False)
