"""Counting a prompt's tokens for the model that would answer it, before sending it.

In: a runtime, LangChain messages (or a bare text), optional tools, and the model or task
that picks the model (else the text is routed as a call would be). Out: the token count,
exact by the answering model's template, default system prompt, tools and vocabulary once
its facts are known (the first count of a model asks ``/api/show`` once). The manager's
``count_tokens`` and the chat model's ``get_num_tokens_from_messages`` both count here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage
from langchain_core.utils.function_calling import convert_to_openai_tool

from zero_llm.calls import ModelProfile
from zero_llm.errors import InvalidRequestError
from zero_llm.requests import QueryRequest, check_optional_name, check_text, make_request
from zero_llm.runtime import Runtime

__all__ = ["prompt_tokens", "text_tokens"]


async def _answering_profile(runtime: Runtime, request: QueryRequest) -> ModelProfile:
    """The profile of the model that would answer ``request`` (asks /api/show once)."""
    spec, _ = await runtime.core.decide(request)
    return await runtime.profiles.resolve(spec)


async def prompt_tokens(
    runtime: Runtime,
    messages: Sequence[BaseMessage] | str,
    *,
    model: str | None = None,
    task: str | None = None,
    tools: Sequence[Any] | None = None,
) -> int:
    """Tokens the prompt of ``messages`` and ``tools`` takes for the model that would answer."""
    prompt = [HumanMessage(messages)] if isinstance(messages, str) else list(messages)
    for index, message in enumerate(prompt):
        if not isinstance(message, BaseMessage):
            raise InvalidRequestError(
                f"message {index} is a {type(message).__name__}, not a LangChain message"
            )
    if not prompt:
        return 0
    request = QueryRequest(
        prompt=tuple(prompt),
        task=None if model is not None else check_optional_name(task, "task"),
        model=check_optional_name(model, "model"),
        tools=tuple(convert_to_openai_tool(t) for t in tools or ()),
    )
    profile = await _answering_profile(runtime, request)
    return profile.counter.count_prompt(request.messages(), request.tools)


async def text_tokens(
    runtime: Runtime, text: str, *, model: str | None = None, task: str | None = None
) -> int:
    """Tokens of a bare text in the vocabulary of the model that would answer it."""
    check_text(text, "text")
    request = make_request(text, task=None if model is not None else task, model=model)
    profile = await _answering_profile(runtime, request)
    return profile.counter.count_text(text)
