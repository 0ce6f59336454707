"""Strict request checks, as Ollama's Go decoding and option parsing make them.

In: a decoded JSON request body. Out: nothing, or ``RequestProblem`` with the status and
``{"error"}`` text Ollama answers: 400 for a field of the wrong JSON type (Go's
``json: cannot unmarshal ...``), an invalid ``think`` or ``keep_alive``; 500 for an option of
the wrong type (Ollama reports ``option "temperature" must be of type float32`` from its
scheduler, whose unknown errors are 500s).
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = [
    "RequestProblem",
    "check_body_types",
    "check_format",
    "check_options",
    "int_option",
    "parse_keep_alive",
    "parse_think",
]

DEFAULT_KEEP_ALIVE = 300.0


class RequestProblem(Exception):
    """A request the emulator answers with an error status and ``{"error": ...}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


_JSON_KIND = {bool: "bool", int: "number", float: "number", str: "string", list: "array"}
_CHAT_FIELDS = {
    "model": str,
    "messages": list,
    "stream": bool,
    "options": dict,
    "tools": list,
    "truncate": bool,
    "shift": bool,
    "logprobs": bool,
    "top_logprobs": int,
}
_GENERATE_FIELDS = {
    "model": str,
    "prompt": str,
    "suffix": str,
    "system": str,
    "template": str,
    "context": list,
    "images": list,
    "stream": bool,
    "raw": bool,
    "options": dict,
    "truncate": bool,
    "shift": bool,
    "logprobs": bool,
    "top_logprobs": int,
}
_MESSAGE_FIELDS = {
    "role": str,
    "content": str,
    "thinking": str,
    "images": list,
    "tool_calls": list,
    "tool_name": str,
    "tool_call_id": str,
}
_GO_TYPES = {str: "string", bool: "bool", int: "int", list: "[]", dict: "map[string]interface {}"}


def _kind(value: Any) -> str:
    return "object" if isinstance(value, dict) else _JSON_KIND.get(type(value), "value")


def _matches(value: Any, expected: type) -> bool:
    if value is None:
        return True  # JSON null leaves Go's zero value
    if expected is int:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if expected is bool:
        return isinstance(value, bool)
    return isinstance(value, expected)


def _unmarshal_error(value: Any, struct: str, field: str, expected: type) -> RequestProblem:
    return RequestProblem(
        400,
        f"json: cannot unmarshal {_kind(value)} into Go struct field {struct}.{field} "
        f"of type {_GO_TYPES.get(expected, expected.__name__)}",
    )


def check_body_types(body: dict[str, Any], chat: bool) -> None:
    """Refuse a ``/api/chat`` or ``/api/generate`` body with a field of the wrong JSON type."""
    struct, fields = (
        ("ChatRequest", _CHAT_FIELDS) if chat else ("GenerateRequest", _GENERATE_FIELDS)
    )
    for field, expected in fields.items():
        if field in body and not _matches(body[field], expected):
            raise _unmarshal_error(body[field], struct, field, expected)
    for message in body.get("messages") or [] if chat else []:
        if not isinstance(message, dict):
            raise _unmarshal_error(message, struct, "messages", dict)
        for field, expected in _MESSAGE_FIELDS.items():
            if field in message and not _matches(message[field], expected):
                raise _unmarshal_error(message[field], struct, f"messages.{field}", expected)


_INT_OPTIONS = frozenset(
    {"num_ctx", "num_predict", "num_keep", "seed", "top_k", "repeat_last_n", "num_batch"}
    | {"num_gpu", "main_gpu", "num_thread"}
)
_FLOAT_OPTIONS = frozenset(
    {"temperature", "top_p", "min_p", "typical_p", "repeat_penalty", "presence_penalty"}
    | {"frequency_penalty"}
)
_BOOL_OPTIONS = frozenset({"use_mmap", "penalize_newline", "numa", "low_vram"})


def check_options(options: Any) -> None:
    """Refuse options of the wrong type with Ollama's status (500) and text."""
    if not isinstance(options, dict):
        raise _unmarshal_error(options, "ChatRequest", "options", dict)
    for key, value in options.items():
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if value is None:
            continue
        if key in _INT_OPTIONS and not number:
            raise RequestProblem(500, f'option "{key}" must be of type integer')
        if key in _FLOAT_OPTIONS and not number:
            raise RequestProblem(500, f'option "{key}" must be of type float32')
        if key in _BOOL_OPTIONS and not isinstance(value, bool):
            raise RequestProblem(500, f'option "{key}" must be of type boolean')
        if key == "stop" and not isinstance(value, list):
            raise RequestProblem(500, f'option "{key}" must be of type array')
        if key == "stop" and not all(isinstance(v, str) for v in value):
            raise RequestProblem(500, f'option "{key}" must be of an array of strings')


def check_format(value: Any) -> None:
    """Refuse a ``format`` that is neither "json" nor a JSON schema object, as Ollama does.

    Ollama (llm/server.go, v0.12.6) answers 500 with ``invalid format: %q; expected "json" or a
    valid JSON Schema object``, the ``%q`` of the raw JSON it was sent; null and "" mean unset.
    """
    if value is None or value in ("", "json") or isinstance(value, dict):
        return
    raw = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    raise RequestProblem(
        500,
        f'invalid format: {json.dumps(raw, ensure_ascii=False)}; expected "json" or a valid '
        "JSON Schema object",
    )


def int_option(options: dict[str, Any], key: str, default: int | None) -> int | None:
    """An integer option (Ollama truncates a float), or ``default``."""
    value = options.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RequestProblem(500, f'option "{key}" must be of type integer')
    return int(value)


_THINK_LEVELS = ("high", "medium", "low", "max")


def parse_think(value: Any) -> bool | str | None:
    """Ollama's ``think``: a boolean or one of high, medium, low, max; else 400."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        if value in _THINK_LEVELS:
            return value
        raise RequestProblem(
            400,
            f'invalid think value: "{value}" (must be "high", "medium", "low", "max", '
            "true, or false)",
        )
    raise RequestProblem(
        400, 'think must be a boolean or string ("high", "medium", "low", "max", true, or false)'
    )


_DURATION = re.compile(r"(-?\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_keep_alive(value: Any) -> float:
    """Seconds from Ollama's ``keep_alive`` (number of seconds or Go duration); <0: forever."""
    if value is None:
        return DEFAULT_KEEP_ALIVE
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise RequestProblem(400, f"Unsupported type: '{_kind(value)}'")
    if isinstance(value, int | float):
        return float(value)
    text = value.strip()
    parts = _DURATION.findall(text)
    if parts and "".join(a + b for a, b in parts) == text.replace("+", ""):
        return sum(float(n) * _UNITS[u] for n, u in parts)
    raise RequestProblem(400, f'time: invalid duration "{value}"')
