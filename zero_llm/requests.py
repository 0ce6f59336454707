"""Requests as zero_llm accepts them: checked before anything is sent to Ollama.

In: what callers pass — ``query_model`` arguments, or a runnable's input (a string, a
dict, a LangChain prompt value or messages). Out: a ``QueryRequest`` and the prompt
messages, or an ``InvalidRequestError`` naming what was wrong. Pure functions.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.prompt_values import PromptValue

from zero_llm.checks import check_optional_name, check_session_id, check_text
from zero_llm.errors import InvalidRequestError
from zero_llm.ollama.options import check_stop
from zero_llm.tool_schema import forced_tool

__all__ = [
    "QueryRequest",
    "SamplingOverrides",
    "check_messages",
    "check_text",
    "check_tools",
    "make_request",
    "parse_runnable_input",
    "request_from_messages",
]

RUNNABLE_KEYS = frozenset({"input", "task", "context", "session_id", "model", "format"})


@dataclass(frozen=True)
class SamplingOverrides:
    """What a caller (e.g. a chat model's fields) sets instead of the catalog's defaults."""

    temperature: float | None = None
    max_tokens: int | None = None
    """Ollama's ``num_predict``."""
    timeout: float | None = None
    """Seconds for the whole request, all attempts included."""
    max_retries: int | None = None
    """Retries after the first attempt."""

    def __post_init__(self) -> None:
        """Refuse values that cannot work, naming them."""
        for name in ("temperature", "timeout"):
            value = getattr(self, name)
            if value is None:
                continue
            usable = isinstance(value, int | float) and not isinstance(value, bool)
            if not usable or not math.isfinite(value) or value < 0:
                raise InvalidRequestError(f"{name} must be a finite number >= 0, got {value!r}")
        for name in ("max_tokens", "max_retries"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 0):
                raise InvalidRequestError(f"{name} must be a whole number >= 0, got {value!r}")


@dataclass(frozen=True)
class QueryRequest:
    """One call to the core: the prompt's messages and how to route, remember and shape it."""

    prompt: tuple[BaseMessage, ...]
    """The messages as the caller gives them: system, earlier turns, the new ones."""
    task: str | None = None
    model: str | None = None
    session_id: str | None = None
    format: str | dict[str, Any] | None = None
    """Ollama's ``format``: ``"json"`` or a JSON schema the answer must follow."""
    tools: tuple[dict[str, Any], ...] = ()
    """Ollama tool schemas the model may call."""
    load_history: bool = True
    """False: the session records the turn but nothing stored is put in front (a
    LangGraph thread whose checkpointer holds the conversation)."""
    tool_choice: Any = None
    """LangChain's ``tool_choice``: None/``"auto"``, ``"none"``, ``"any"``/``"required"``
    or a tool's name (Ollama has none: zero-llm enforces it, see ``zero_llm.tool_schema``)."""
    stop: tuple[str, ...] | None = None
    sampling: SamplingOverrides | None = None
    """Per-call overrides of the model spec's sampling and of the retry/deadline policy."""

    def messages(self) -> list[BaseMessage]:
        """The prompt's messages as a list."""
        return list(self.prompt)

    @property
    def text(self) -> str:
        """The newest human text (what routing reads), or "" when there is none."""
        for message in reversed(self.prompt):
            if isinstance(message, HumanMessage):
                return message.text
        return ""

    @property
    def carries_history(self) -> bool:
        """Whether the caller sends the conversation itself (it holds an AI message)."""
        return any(isinstance(m, AIMessage) for m in self.prompt)

    def new_messages(self) -> list[BaseMessage]:
        """The messages this call adds to a conversation: those after the last AI message.

        System messages are the caller's configuration, not turns, and are not among them.
        """
        tail: list[BaseMessage] = []
        for message in reversed(self.prompt):
            if isinstance(message, AIMessage):
                break
            if not isinstance(message, SystemMessage):
                tail.append(message)
        return tail[::-1]

    def with_history(self, history: Sequence[BaseMessage]) -> QueryRequest:
        """The request with stored turns placed after the leading system messages."""
        head = 0
        while head < len(self.prompt) and isinstance(self.prompt[head], SystemMessage):
            head += 1
        prompt = (*self.prompt[:head], *history, *self.prompt[head:])
        return replace(self, prompt=prompt)


def _check_format(format: Any) -> str | dict[str, Any] | None:
    if format is not None and format != "json" and not isinstance(format, dict):
        raise InvalidRequestError(
            f"format must be 'json' or a JSON schema dict, got {type(format).__name__}"
        )
    if isinstance(format, dict):
        try:  # it travels as JSON in UTF-8: refuse here what could not be sent
            json.dumps(format, ensure_ascii=False, allow_nan=False).encode("utf-8")
        except (TypeError, ValueError) as exc:  # UnicodeEncodeError is a ValueError
            raise InvalidRequestError(
                f"format is not a JSON schema that can be sent as UTF-8 JSON: {exc}"
            ) from exc
    return format  # type: ignore[no-any-return]


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
    """Check every part of a question and build its request (context as the system message)."""
    question = check_text(text, "input_text")
    context = check_text("" if context is None else context, "context", allow_empty=True)
    prompt: list[BaseMessage] = [SystemMessage(context)] if context.strip() else []
    prompt.extend(history)
    prompt.append(HumanMessage(question))
    return QueryRequest(
        prompt=tuple(prompt),
        task=check_optional_name(task, "task"),
        model=check_optional_name(model, "model"),
        session_id=None if session_id is None else check_session_id(session_id),
        format=_check_format(format),
    )


def check_messages(messages: Any) -> tuple[BaseMessage, ...]:
    """Return the messages if they can be a prompt, else raise InvalidRequestError."""
    if isinstance(messages, BaseMessage):
        messages = [messages]
    if not isinstance(messages, list | tuple) or not messages:
        raise InvalidRequestError("there are no messages to send")
    for index, message in enumerate(messages):
        if not isinstance(message, BaseMessage):
            raise InvalidRequestError(
                f"message {index} is a {type(message).__name__}, not a LangChain message"
            )
        if isinstance(message.content, str):
            check_text(message.content, f"message {index}", allow_empty=True)
    if not any(isinstance(m, HumanMessage) for m in messages):
        raise InvalidRequestError("the messages hold no human message: there is nothing to ask")
    return tuple(messages)


def request_from_messages(
    messages: Any,
    *,
    task: Any = None,
    model: Any = None,
    session_id: Any = None,
    format: Any = None,
    tools: Sequence[dict[str, Any]] = (),
    stop: Sequence[str] | str | None = None,
    sampling: SamplingOverrides | None = None,
    tool_choice: Any = None,
) -> QueryRequest:
    """Check a message list (any LangChain conversation, tool results included) as a request."""
    if tool_choice is not None and tool_choice not in ("auto", "none", "any", "required"):
        forced_tool(tool_choice, tools)  # a name must name a bound tool
    return QueryRequest(
        prompt=check_messages(messages),
        task=check_optional_name(task, "task"),
        model=check_optional_name(model, "model"),
        session_id=None if session_id is None else check_session_id(session_id),
        format=_check_format(format),
        tools=check_tools(tools),
        stop=tuple(checked) if (checked := check_stop(stop)) else None,
        sampling=sampling,
        tool_choice=tool_choice,
    )


MAX_TOOLS = 128
"""The most tools one request may carry."""


def check_tools(tools: Any) -> tuple[dict[str, Any], ...]:
    """Tool schemas as Ollama takes them (``{"type": "function", "function": {...}}``).

    Raises InvalidRequestError naming the tool and what is wrong with it, before anything
    is sent (Ollama's client would fail on them with a bare validation error).
    """
    if not isinstance(tools, list | tuple):
        raise InvalidRequestError(f"tools must be a list, got {type(tools).__name__}")
    if len(tools) > MAX_TOOLS:
        raise InvalidRequestError(f"{len(tools)} tools in one request; at most {MAX_TOOLS}")
    for index, tool in enumerate(tools):
        where = f"tool {index}"
        if not isinstance(tool, dict):
            raise InvalidRequestError(f"{where} must be a dict, got {type(tool).__name__}")
        function = tool.get("function")
        if tool.get("type", "function") != "function" or not isinstance(function, dict):
            raise InvalidRequestError(
                f"{where} must be {{'type': 'function', 'function': {{...}}}}"
            )
        name = function.get("name")
        if not isinstance(name, str) or not name.strip():
            raise InvalidRequestError(f"{where} has no function name")
        if not isinstance(function.get("description", ""), str):
            raise InvalidRequestError(f"tool {name!r}: description must be a string")
        parameters = function.get("parameters", {})
        if not isinstance(parameters, dict):
            raise InvalidRequestError(
                f"tool {name!r}: parameters must be a JSON schema object, got {parameters!r:.40}"
            )
        if not isinstance(parameters.get("properties", {}), dict):
            raise InvalidRequestError(f"tool {name!r}: parameters.properties must be an object")
    return tuple(tools)


def parse_runnable_input(value: Any) -> QueryRequest:
    """Turn a runnable's input (str, dict, prompt value or messages) into a QueryRequest."""
    if isinstance(value, str):
        return make_request(value)
    if isinstance(value, PromptValue):
        return request_from_messages(value.to_messages())
    if isinstance(value, BaseMessage | list | tuple):
        return request_from_messages(value)
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
        if not isinstance(inner, PromptValue | list | tuple | BaseMessage):
            return make_request(inner, value.get("context") or "", **extra)
        messages = inner.to_messages() if isinstance(inner, PromptValue) else inner
        request = request_from_messages(messages, **extra)
        if value.get("context"):
            context = SystemMessage(check_text(value["context"], "context"))
            return replace(request, prompt=(context, *request.prompt))
        return request
    raise InvalidRequestError(
        f"the runnable takes a string, a dict with 'input', a prompt value or messages; "
        f"got {type(value).__name__}"
    )
