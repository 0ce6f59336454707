"""Ollama's model options, checked before a request is sent, by the types Ollama gives them.

In: the ``options`` of a chat request (``num_ctx``, ``temperature``, ``stop``, ...). Out:
the same options, or ``InvalidRequestError`` naming the option and the type Ollama wants
(api/types.go ``Options`` and ``Runner``; ``Options.FromMap`` answers a wrong type with a
500 ``option "x" must be of type ...`` that no retry can mend). Pure.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from zero_llm.errors import InvalidRequestError

__all__ = ["OPTION_TYPES", "check_options", "check_stop"]

OPTION_TYPES: dict[str, str] = {
    **dict.fromkeys(
        [
            "num_ctx", "num_batch", "num_gpu", "main_gpu", "num_thread", "draft_num_predict",
            "num_keep", "seed", "num_predict", "top_k", "repeat_last_n",
        ],
        "integer",
    ),
    **dict.fromkeys(
        [
            "top_p", "min_p", "typical_p", "temperature", "repeat_penalty",
            "presence_penalty", "frequency_penalty",
        ],
        "float",
    ),
    "use_mmap": "boolean",
    "stop": "array of strings",
}  # fmt: skip
"""Each option Ollama knows and the JSON type it takes."""


def check_stop(value: Any) -> list[str] | None:
    """Stop sequences as Ollama takes them: a string is one sequence; only strings allowed."""
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence) and all(isinstance(item, str) for item in value):
        return list(value)
    raise InvalidRequestError(
        f"stop must be a string or a list of strings, got {value!r}"
        " (Ollama refuses any other stop value)"
    )


def check_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The options if Ollama can take each of them, else ``InvalidRequestError`` naming it."""
    checked: dict[str, Any] = {}
    for key, value in options.items():
        kind = OPTION_TYPES.get(key)
        if kind is None:
            raise InvalidRequestError(
                f"Ollama has no option {key!r}; it takes {', '.join(sorted(OPTION_TYPES))}"
            )
        if kind == "array of strings":
            checked[key] = check_stop(value)
            continue
        if kind == "boolean":
            ok = isinstance(value, bool)
        elif kind == "integer":
            ok = isinstance(value, int) and not isinstance(value, bool)
            if not ok and isinstance(value, float) and value.is_integer():
                ok, value = True, int(value)  # JSON has one number type: 4.0 is 4
        else:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            ok = ok and math.isfinite(value)
        if not ok:
            raise InvalidRequestError(f"option {key!r} must be of type {kind}, got {value!r}")
        checked[key] = value
    return checked
