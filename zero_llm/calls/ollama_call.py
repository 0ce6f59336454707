"""One Ollama chat call, relayed as LangChain chunks within its deadlines.

In: the host's client, the model's spec and fixed ``num_ctx``, the fitted messages, what
the request asks (``CallOptions``: tools, ``format``, stop words, streaming, sampling),
the call's total deadline and its ``keep_alive``. Out: ``AIMessageChunk``s (text, thinking
apart, tool-call chunks, Ollama's counts on the last one), the trace's call fields filled.

Deadlines: the first chunk (``timeouts.first_token``, or ``timeouts.response`` for a
whole answer), the stall between chunks (``timeouts.stall``) and the call's total; each
wraps a wait for Ollama only, never a yield to a slow consumer. An answer longer than
``max_answer_chars`` is cut off with ``AnswerTooLongError``; one that ends without
Ollama's ``done: true`` line is incomplete (``OllamaServerError``). Nothing is retried
here: the attempts around it decide.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessageChunk, BaseMessage

from zero_llm.answer import CallTrace
from zero_llm.catalog import ModelSpec
from zero_llm.errors import AnswerTooLongError, OllamaServerError, OllamaTimeoutError
from zero_llm.ollama.client import OllamaBackend
from zero_llm.ollama.messages import chunk_from_part, to_ollama_messages
from zero_llm.ollama.options import check_options
from zero_llm.requests import SamplingOverrides
from zero_llm.settings import TimeoutSettings

__all__ = ["CallOptions", "answer_size", "by_deadline", "ollama_chat"]


@dataclass(frozen=True)
class CallOptions:
    """What one request asks of every attempt: tools, format, stop words, streaming."""

    tools: tuple[dict[str, Any], ...]
    format: str | dict[str, Any] | None
    stop: tuple[str, ...] | None
    stream: bool
    sampling: SamplingOverrides


@asynccontextmanager
async def by_deadline(deadline: float, spec: ModelSpec, what: str) -> AsyncIterator[None]:
    """Run the block within the call's deadline; past it, an OllamaTimeoutError saying what."""
    try:
        async with asyncio.timeout_at(deadline):
            yield
    except TimeoutError as exc:
        raise OllamaTimeoutError(
            f"{what}: past the call's total deadline (timeouts.total)", model=spec.name
        ) from exc


def answer_size(chunk: AIMessageChunk) -> int:
    """Characters a chunk adds to the answer: text, thinking, tool-call names and arguments."""
    size = len(chunk.content) if isinstance(chunk.content, str) else len(str(chunk.content))
    reasoning = chunk.additional_kwargs.get("reasoning_content")
    if isinstance(reasoning, str):
        size += len(reasoning)
    for call in chunk.tool_call_chunks:
        size += len(call.get("args") or "") + len(call.get("name") or "")
    return size


def _first(*values: Any) -> Any:
    """The first of ``values`` that is not None."""
    return next((v for v in values if v is not None), None)


def _options(spec: ModelSpec, num_ctx: int, call: CallOptions) -> dict[str, Any]:
    """Ollama's checked ``options``: num_ctx, and the request's or the catalog's sampling."""
    options: dict[str, Any] = {"num_ctx": num_ctx}
    num_predict = _first(call.sampling.max_tokens, spec.num_predict)
    if num_predict is not None:
        options["num_predict"] = num_predict
    temperature = _first(call.sampling.temperature, spec.temperature)
    if temperature is not None:
        options["temperature"] = temperature
    if call.stop:
        options["stop"] = list(call.stop)
    return check_options(options)


async def ollama_chat(
    backend: OllamaBackend,
    spec: ModelSpec,
    num_ctx: int,
    messages: Sequence[BaseMessage],
    trace: CallTrace,
    call: CallOptions,
    *,
    timeouts: TimeoutSettings,
    max_answer_chars: int,
    deadline: float,
    keep_alive: str | int,
) -> AsyncIterator[AIMessageChunk]:
    """Relay one chat call's answer as chunks, within its deadlines (see the module docstring)."""
    loop = asyncio.get_running_loop()
    parts = backend.chat(
        spec.name,
        to_ollama_messages(messages),
        stream=call.stream,
        options=_options(spec, num_ctx, call),
        keep_alive=keep_alive,
        tools=call.tools,
        think=True if spec.think else None,
        format=call.format,
    )
    if call.stream:
        limit = min(loop.time() + timeouts.first_token, deadline)
        what = f"the first chunk within {timeouts.first_token:g}s (timeouts.first_token)"
    else:
        limit = min(loop.time() + timeouts.response, deadline)
        what = f"an answer within {timeouts.response:g}s (timeouts.response)"
    tool_index = 0
    done = False
    size = 0
    try:
        while True:
            try:
                async with asyncio.timeout_at(limit):
                    part = await anext(parts)
            except StopAsyncIteration:
                if not done:  # Ollama ends every answer with done: true; this one broke
                    raise OllamaServerError(
                        f"the answer of {spec.name} ended without Ollama's final "
                        "`done: true` line: it is incomplete",
                        model=spec.name,
                    ) from None
                return
            done = bool(part.get("done"))
            trace.mark_first_token()
            chunk = chunk_from_part(part, first_tool_index=tool_index)
            size += answer_size(chunk)
            if size > max_answer_chars:
                raise AnswerTooLongError(
                    f"the answer of {spec.name} grew past {max_answer_chars} "
                    "characters (max_answer_chars): cut off, not stored",
                    model=spec.name,
                )
            if loop.time() > deadline:  # chunks always ready never wait, so never time out
                raise TimeoutError
            tool_index += len(chunk.tool_call_chunks)
            if chunk.response_metadata:
                trace.absorb_metadata(chunk.response_metadata)
            yield chunk
            what = f"a chunk within {timeouts.stall:g}s of the last (timeouts.stall)"
            limit = min(loop.time() + timeouts.stall, deadline)
    except TimeoutError as exc:
        raise OllamaTimeoutError(
            f"{spec.name} did not send {what} or the total deadline passed",
            model=spec.name,
        ) from exc
    finally:
        await parts.aclose()
