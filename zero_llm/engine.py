"""The query engine: the one async core behind every query path.

Sync or async, streamed or whole, ``query_model`` or the LCEL runnable: all go through here.

In: a model spec, the prompt messages, a LangChain config and a ``CallTrace``.
Out: ``AIMessageChunk``s relayed from ChatOllama, with

* the model's fixed ``num_ctx`` resolved once (``/api/show``), the model pulled first
  when it is missing and auto-pull is on;
* retries of transient failures only (``RetryPolicy``), up to the configured attempts,
  with backoff; a stream is retried only while nothing has been yielded from it, after
  which a failure raises ``StreamInterruptedError`` carrying the partial text;
* deadlines: first token, stall between chunks, the whole non-streamed answer, total;
* fallbacks along the spec's chain when a model fails for good.

"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.runnables import RunnableConfig

from zero_llm.answer import CallTrace, FallbackStep, RetryStep
from zero_llm.backend import OllamaBackend, ProgressCallback, translate_error
from zero_llm.catalog import Catalog, ModelSpec
from zero_llm.errors import (
    ModelNotFoundError,
    OllamaError,
    OllamaTimeoutError,
    StreamInterruptedError,
    TransientOllamaError,
)
from zero_llm.models import ChatModelPool
from zero_llm.retry import RetryPolicy
from zero_llm.settings import ZeroLLMSettings

__all__ = ["QueryEngine"]

log = logging.getLogger(__name__)


class QueryEngine:
    """Runs prompts against the catalog's models with num_ctx, retries, deadlines, fallbacks."""

    def __init__(
        self,
        settings: ZeroLLMSettings,
        catalog: Catalog,
        backend: OllamaBackend,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.backend = backend
        self.policy = policy or RetryPolicy(settings.retry)
        self.pool = ChatModelPool(settings)
        self._num_ctx: dict[str, int] = {}
        self._resolving: dict[str, asyncio.Future[int]] = {}

    # ------------------------------------------------------------- num_ctx
    def window_for(self, spec: ModelSpec, context_length: int | None) -> int:
        """The one fixed num_ctx of a model: the smallest of every ceiling that applies."""
        limits = [self.settings.context_window]
        if spec.context_window is not None:
            limits.append(spec.context_window)
        if context_length:
            limits.append(context_length)
        if self.settings.num_ctx_memory_cap is not None:
            limits.append(self.settings.num_ctx_memory_cap)
        return min(limits)

    def known_num_ctx(self, spec: ModelSpec) -> int | None:
        """The model's num_ctx if it has been resolved already."""
        return self._num_ctx.get(spec.name)

    async def num_ctx_for(
        self,
        spec: ModelSpec,
        trace: CallTrace | None = None,
        progress: ProgressCallback | None = None,
    ) -> int:
        """Resolve (once) the model's num_ctx from ``/api/show``, pulling it when missing."""
        cached = self._num_ctx.get(spec.name)
        if cached is not None:
            return cached
        try:
            facts = await self.backend.show(spec.name)
        except ModelNotFoundError:
            if not self.settings.auto_pull:
                raise
            await self.pull(spec, trace, progress)
            facts = await self.backend.show(spec.name)
        value = self.window_for(spec, facts.context_length)
        self._num_ctx[spec.name] = value
        return value

    async def pull(
        self,
        spec: ModelSpec,
        trace: CallTrace | None = None,
        progress: ProgressCallback | None = None,
    ) -> None:
        """Pull a missing model, noting it in the trace."""
        log.info("pulling missing model %s", spec.name)
        await self.backend.pull(spec.name, progress)
        self._num_ctx.pop(spec.name, None)
        if trace is not None:
            trace.pulled.append(spec.name)

    def forget(self, name: str) -> None:
        """Drop what is cached about a model (after it was deleted, say)."""
        self._num_ctx.pop(name, None)

    # ---------------------------------------------------------------- core
    async def run(
        self,
        spec: ModelSpec,
        messages: Sequence[BaseMessage],
        config: RunnableConfig | None,
        trace: CallTrace,
        *,
        stream: bool,
    ) -> AsyncIterator[AIMessageChunk]:
        """Relay the answer of ``spec`` (or of its fallbacks) as chunks, filling ``trace``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.timeouts.total
        candidates = [spec, *self.catalog.fallback_chain(spec)]
        for index, candidate in enumerate(candidates):
            try:
                async for chunk in self._attempts(
                    candidate, messages, config, trace, stream=stream, deadline=deadline
                ):
                    yield chunk
            except (TransientOllamaError, ModelNotFoundError) as error:
                if index == len(candidates) - 1:
                    raise
                trace.fallbacks.append(
                    FallbackStep(candidate.name, type(error).__name__, str(error))
                )
                log.warning(
                    "model %s failed for good (%s); falling back to %s",
                    candidate.name,
                    type(error).__name__,
                    candidates[index + 1].name,
                )
                continue
            trace.model = candidate.name
            return

    async def _attempts(
        self,
        spec: ModelSpec,
        messages: Sequence[BaseMessage],
        config: RunnableConfig | None,
        trace: CallTrace,
        *,
        stream: bool,
        deadline: float,
    ) -> AsyncIterator[AIMessageChunk]:
        loop = asyncio.get_running_loop()
        attempt = 0
        pulled = False
        while True:
            attempt += 1
            trace.attempts += 1
            emitted: list[str] = []
            try:
                num_ctx = await self.num_ctx_for(spec, trace)
                trace.num_ctx = num_ctx
                model = self.pool.get(spec, num_ctx)
                async for chunk in self._one_call(
                    model, messages, config, trace, stream=stream, deadline=deadline
                ):
                    if chunk.content or chunk.additional_kwargs.get("reasoning_content"):
                        emitted.append(chunk.text)
                    yield chunk
                return
            except Exception as exc:
                error = translate_error(exc, model=spec.name, host=self.backend.base_url)
                if emitted:
                    raise StreamInterruptedError(
                        f"the stream from {spec.name} broke after {len(emitted)} chunks: {error}",
                        partial_text="".join(emitted),
                        model=spec.name,
                        attempts=attempt,
                    ) from exc
                if isinstance(error, ModelNotFoundError) and self.settings.auto_pull and not pulled:
                    pulled = True
                    attempt -= 1
                    await self.pull(spec, trace)
                    continue
                if isinstance(error, OllamaError):
                    error.attempts = attempt
                remaining = deadline - loop.time()
                if not self.policy.should_retry(error, attempt) or remaining <= 0:
                    if error is exc:
                        raise
                    raise error from exc
                wait = min(self.policy.backoff(attempt), max(0.0, remaining))
                trace.retries.append(
                    RetryStep(spec.name, attempt, type(error).__name__, str(error), wait)
                )
                log.warning(
                    "attempt %d of %d for %s failed (%s: %s); retrying in %.2fs",
                    attempt,
                    self.policy.max_attempts,
                    spec.name,
                    type(error).__name__,
                    error,
                    wait,
                )
                await asyncio.sleep(wait)

    async def _one_call(
        self,
        model: Any,
        messages: Sequence[BaseMessage],
        config: RunnableConfig | None,
        trace: CallTrace,
        *,
        stream: bool,
        deadline: float,
    ) -> AsyncIterator[AIMessageChunk]:
        loop = asyncio.get_running_loop()
        timeouts = self.settings.timeouts
        if not stream:
            limit = min(loop.time() + timeouts.response, deadline)
            try:
                async with asyncio.timeout_at(limit):
                    message = await model.ainvoke(list(messages), config, stream=False)
            except TimeoutError as exc:
                raise OllamaTimeoutError(
                    f"no answer from {model.model} within {timeouts.response:g}s "
                    "(timeouts.response) or the total deadline",
                    model=model.model,
                ) from exc
            trace.mark_first_token()
            trace.absorb_metadata(message.response_metadata)
            yield AIMessageChunk(
                content=message.content,
                additional_kwargs=message.additional_kwargs,
                response_metadata=message.response_metadata,
                usage_metadata=message.usage_metadata,
                id=message.id,
            )
            return
        what = f"the first chunk within {timeouts.first_token:g}s (timeouts.first_token)"
        limit = min(loop.time() + timeouts.first_token, deadline)
        chunks = model.astream(list(messages), config).__aiter__()
        try:
            while True:
                # The deadline wraps each wait only, never a yield: a slow consumer is not a
                # stalled server, and each step may run in a task of its own (LangChain's
                # stream plumbing does that), which a timeout held across yields cannot bear.
                try:
                    async with asyncio.timeout_at(limit):
                        chunk = await chunks.__anext__()
                except StopAsyncIteration:
                    return
                trace.mark_first_token()
                if chunk.response_metadata.get("done"):
                    trace.absorb_metadata(chunk.response_metadata)
                yield chunk
                what = f"a chunk within {timeouts.stall:g}s of the last (timeouts.stall)"
                limit = min(loop.time() + timeouts.stall, deadline)
        except TimeoutError as exc:
            raise OllamaTimeoutError(
                f"{model.model} did not send {what} or the total deadline passed",
                model=model.model,
            ) from exc
        finally:
            await chunks.aclose()
