"""Checks of the plain values a request carries: text, names and session ids.

In: what a caller passed. Out: the value, ready to use, or an ``InvalidRequestError``
naming what was wrong. Pure functions with no import beyond ``zero_llm.errors``, so the
history store and the command line can use them without loading LangChain.
"""

from __future__ import annotations

from typing import Any

from zero_llm.errors import InvalidRequestError

__all__ = [
    "NAME_LENGTHS",
    "SESSION_ID_LENGTH",
    "check_optional_name",
    "check_session_id",
    "check_text",
]

SESSION_ID_LENGTH = 255
"""The longest session id (as long as the history's column for it)."""
NAME_LENGTHS = {"task": 100, "model": 200}
"""The longest task and model names (as long as the history's columns for them)."""


def check_session_id(value: Any) -> str:
    """Return a usable session id, verbatim, or raise InvalidRequestError naming the fault."""
    if not isinstance(value, str):
        raise InvalidRequestError(f"session_id must be a string, got {type(value).__name__}")
    if not value.strip():
        raise InvalidRequestError("session_id is empty")
    if len(value) > SESSION_ID_LENGTH:
        raise InvalidRequestError(f"session_id is longer than {SESSION_ID_LENGTH} characters")
    if "\x00" in value:
        raise InvalidRequestError("session_id contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidRequestError("session_id is not valid Unicode text") from exc
    return value


def check_text(value: Any, what: str, *, allow_empty: bool = False) -> str:
    """Return ``value`` if it is usable prompt text, else raise InvalidRequestError."""
    if not isinstance(value, str):
        raise InvalidRequestError(f"{what} must be a string, got {type(value).__name__}")
    if not allow_empty and not value.strip():
        raise InvalidRequestError(f"{what} is empty: there is nothing to ask")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidRequestError(
            f"{what} is not valid Unicode text (a lone surrogate at position {exc.start})"
        ) from exc
    return value


def check_optional_name(value: Any, what: str) -> str | None:
    """Return a stripped name, None for None; raise InvalidRequestError for anything else."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidRequestError(f"{what} must be a string or None, got {type(value).__name__}")
    if "\x00" in value:
        raise InvalidRequestError(f"{what} contains a NUL character")
    limit = NAME_LENGTHS.get(what, 200)
    if len(value.strip()) > limit:  # the history's columns: PostgreSQL refuses longer ones
        raise InvalidRequestError(f"{what} is longer than {limit} characters")
    return check_text(value, what).strip()
