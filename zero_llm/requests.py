"""Requests as zero_llm accepts them: checked before anything is sent to Ollama.

In: what callers pass — ``query_model`` arguments, or a runnable's input (a string, a
dict, a LangChain prompt value or messages). Out: a ``QueryRequest`` and the prompt
messages, or an ``InvalidRequestError`` naming what was wrong. Pure functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langchain_core.prompt_values import PromptValue

from zero_llm.errors import InvalidRequestError

SESSION_ID_LENGTH = 255

__all__ = ["QueryRequest", "check_text", "parse_runnable_input"]

RUNNABLE_KEYS = frozenset({"input", "task", "context", "session_id", "model", "format"})


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
    return check_text(value, what).strip()


@dataclass(frozen=True)
class QueryRequest:
    """One question to a model, with its context and how to route it."""

    text: str
    context: str = ""
    task: str | None = None
    model: str | None = None
    session_id: str | None = None
    history: tuple[BaseMessage, ...] = field(default=())
    format: str | dict[str, Any] | None = None
    """Ollama's ``format``: ``"json"`` or a JSON schema the answer must follow."""

    def messages(self) -> list[BaseMessage]:
        """The prompt: the context as the system message, the history, then the question."""
        out: list[BaseMessage] = []
        if self.context.strip():
            out.append(SystemMessage(self.context))
        out.extend(self.history)
        out.append(HumanMessage(self.text))
        return out


def make_request(
    text: Any,
    context: Any = "",
    *,
    task: Any = None,
    model: Any = None,
    session_id: Any = None,
    history: Sequence[BaseMessage] = (),
    format: Any = None,
) -> QueryRequest:
    """Check every part of a request and build it."""
    if format is not None and format != "json" and not isinstance(format, dict):
        raise InvalidRequestError(
            f"format must be 'json' or a JSON schema dict, got {type(format).__name__}"
        )
    return QueryRequest(
        text=check_text(text, "input_text"),
        context=check_text("" if context is None else context, "context", allow_empty=True),
        task=check_optional_name(task, "task"),
        model=check_optional_name(model, "model"),
        session_id=None if session_id is None else check_session_id(session_id),
        history=tuple(history),
        format=format,
    )


def _from_messages(messages: Sequence[BaseMessage], extra: dict[str, Any]) -> QueryRequest:
    if not messages or not all(isinstance(m, BaseMessage) for m in messages):
        raise InvalidRequestError("the runnable's input holds no messages")
    last = messages[-1]
    if not isinstance(last, HumanMessage):
        raise InvalidRequestError(
            f"the last message must be the human's question, got a {type(last).__name__}"
        )
    leading_system = []
    rest = list(messages[:-1])
    while rest and isinstance(rest[0], SystemMessage):
        leading_system.append(rest.pop(0))
    context = "\n\n".join(str(m.content) for m in leading_system)
    return make_request(last.text, context, history=rest, **extra)


def parse_runnable_input(value: Any) -> QueryRequest:
    """Turn a runnable's input (str, dict, prompt value or messages) into a QueryRequest."""
    if isinstance(value, str):
        return make_request(value)
    if isinstance(value, PromptValue):
        return _from_messages(value.to_messages(), {})
    if isinstance(value, BaseMessage):
        return _from_messages([value], {})
    if isinstance(value, list | tuple):
        return _from_messages(list(value), {})
    if isinstance(value, dict):
        unknown = set(value) - RUNNABLE_KEYS
        if unknown:
            raise InvalidRequestError(
                f"unknown input keys {sorted(unknown)}; expected some of {sorted(RUNNABLE_KEYS)}"
            )
        if "input" not in value:
            raise InvalidRequestError("the runnable's input dict needs an 'input' key")
        inner = value["input"]
        extra: dict[str, Any] = {k: value.get(k) for k in ("task", "model", "session_id", "format")}
        if isinstance(inner, PromptValue | list | tuple | BaseMessage):
            messages = (
                inner.to_messages()
                if isinstance(inner, PromptValue)
                else ([inner] if isinstance(inner, BaseMessage) else list(inner))
            )
            request = _from_messages(messages, extra)
            if value.get("context"):
                context = check_text(value["context"], "context")
                joined = "\n\n".join(p for p in (context, request.context) if p)
                return make_request(request.text, joined, history=request.history, **extra)
            return request
        return make_request(inner, value.get("context") or "", **extra)
    raise InvalidRequestError(
        f"the runnable takes a string, a dict with 'input', a prompt value or messages; "
        f"got {type(value).__name__}"
    )
