"""The query engine: the one async core behind every query path.

Sync or async, streamed or whole, ``query_model`` or the LCEL runnable: all go through here.

In: a model spec, the prompt messages, a LangChain config and a ``CallTrace``.
Out: ``AIMessageChunk``s relayed from ChatOllama, with

* the model's fixed ``num_ctx`` and its token counter resolved once (``/api/show``), the
  model pulled first when it is missing and auto-pull is on;
* the prompt fitted into the model's window (``zero_llm.window``), and Ollama's own
  prompt count compared with ours afterwards to catch a silently cut prompt;
* retries of transient failures only (``RetryPolicy``), up to the configured attempts,
  with backoff; a stream is retried only while nothing has been yielded from it, after
  which a failure raises ``StreamInterruptedError`` carrying the partial text;
* deadlines: first token, stall between chunks, the whole non-streamed answer, total;
* fallbacks along the spec's chain when a model fails for good.

"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessageChunk, BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig

from zero_llm.answer import CallTrace, FallbackStep, RetryStep
from zero_llm.backend import ModelFacts, OllamaBackend, ProgressCallback, translate_error
from zero_llm.catalog import Catalog, ModelSpec
from zero_llm.errors import (
    ContextOverflowError,
    ModelNotFoundError,
    OllamaError,
    OllamaTimeoutError,
    StreamInterruptedError,
    TransientOllamaError,
)
from zero_llm.models import ChatModelPool
from zero_llm.retry import RetryPolicy
from zero_llm.settings import ZeroLLMSettings
from zero_llm.tokens import (
    EstimatingCounter,
    ExactCounter,
    TokenCounter,
    overhead_for_template,
)
from zero_llm.vocab import (
    UnsupportedVocabularyError,
    cached_encoding,
    encoding_from_show,
    remember_encoding,
)
from zero_llm.window import FitResult, WindowBudget, fit_messages

__all__ = ["ModelProfile", "QueryEngine"]

log = logging.getLogger(__name__)


SUMMARY_INSTRUCTIONS = (
    "Summarize this earlier part of a conversation in a few sentences. Keep names, numbers, "
    "decisions and open questions; leave out pleasantries."
)


def _observed(config: RunnableConfig | None) -> bool:
    """Whether a call has callback handlers (then it goes through LangChain's public API)."""
    return bool(config and config.get("callbacks"))


async def _bare_chunks(
    model: Any, messages: Sequence[BaseMessage], options: dict[str, Any]
) -> AsyncIterator[AIMessageChunk]:
    """ChatOllama's own stream without LangChain's run bookkeeping (no handler to tell)."""
    async for generation in model._astream(list(messages), **options):
        chunk = generation.message
        if generation.generation_info:
            chunk.response_metadata = generation.generation_info
        yield chunk


@dataclass(frozen=True)
class ModelProfile:
    """What the engine knows of one model: its num_ctx, token counter and prompt budget."""

    num_ctx: int
    counter: TokenCounter
    budget: WindowBudget


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
        self._profiles: dict[str, ModelProfile] = {}
        self._last_prompts: dict[str, list[BaseMessage]] = {}
        self._locks: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[str, asyncio.Lock]
        ] = weakref.WeakKeyDictionary()

    # ------------------------------------------------------------- profiles
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

    def budget_for(self, spec: ModelSpec, num_ctx: int) -> WindowBudget:
        """The prompt budget of a model: num_ctx less room for the answer and a margin."""
        window = self.settings.window
        reserve = spec.num_predict or window.answer_reserve
        if spec.think:
            reserve += window.thinking_reserve
        return WindowBudget(num_ctx, min(reserve, num_ctx // 2), window.safety_margin)

    def profile_of(self, name: str) -> ModelProfile | None:
        """The resolved profile of a model by name, if it has been resolved."""
        return self._profiles.get(name)

    def known_num_ctx(self, spec: ModelSpec) -> int | None:
        """The model's num_ctx if it has been resolved already."""
        profile = self._profiles.get(spec.name)
        return profile.num_ctx if profile else None

    async def num_ctx_for(
        self,
        spec: ModelSpec,
        trace: CallTrace | None = None,
        progress: ProgressCallback | None = None,
    ) -> int:
        """The model's one fixed num_ctx (resolved once, pulling the model if missing)."""
        return (await self.profile_for(spec, trace, progress)).num_ctx

    async def profile_for(
        self,
        spec: ModelSpec,
        trace: CallTrace | None = None,
        progress: ProgressCallback | None = None,
    ) -> ModelProfile:
        """Resolve (once) what a model needs: num_ctx, its token counter and prompt budget."""
        cached = self._profiles.get(spec.name)
        if cached is not None:
            return cached
        async with self._lock_for(spec.name):
            cached = self._profiles.get(spec.name)
            if cached is not None:
                return cached
            try:
                facts = await self.backend.show(spec.name)
            except ModelNotFoundError:
                if not self.settings.auto_pull:
                    raise
                await self.pull(spec, trace, progress)
                facts = await self.backend.show(spec.name)
            num_ctx = self.window_for(spec, facts.context_length)
            counter = await self._counter_for(spec, facts)
            profile = ModelProfile(num_ctx, counter, self.budget_for(spec, num_ctx))
            self._profiles[spec.name] = profile
            return profile

    async def _counter_for(self, spec: ModelSpec, facts: ModelFacts) -> TokenCounter:
        overhead = overhead_for_template(facts.template)
        if not self.settings.window.exact_counts:
            return EstimatingCounter(overhead)
        digest = await self.backend.digest(spec.name)
        saved = self.settings.home.expanduser() / "encodings"
        encoding = await asyncio.to_thread(cached_encoding, digest, saved) if digest else None
        if encoding is None:
            verbose = await self.backend.show_verbose(spec.name)
            try:
                encoding = await asyncio.to_thread(
                    encoding_from_show, spec.name, verbose.get("model_info") or {}
                )
            except UnsupportedVocabularyError as exc:
                log.info("counting %s by estimate: %s", spec.name, exc)
                return EstimatingCounter(overhead)
            if digest:
                await asyncio.to_thread(remember_encoding, digest, encoding, saved)
        return ExactCounter(encoding, overhead)

    def _lock_for(self, name: str) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        locks = self._locks.setdefault(loop, {})
        lock = locks.get(name)
        if lock is None:
            lock = locks[name] = asyncio.Lock()
        return lock

    async def pull(
        self,
        spec: ModelSpec,
        trace: CallTrace | None = None,
        progress: ProgressCallback | None = None,
    ) -> None:
        """Pull a missing model, noting it in the trace."""
        log.info("pulling missing model %s", spec.name)
        await self.backend.pull(spec.name, progress)
        self._profiles.pop(spec.name, None)
        if trace is not None:
            trace.pulled.append(spec.name)

    # ---------------------------------------------------------------- core
    async def run(
        self,
        spec: ModelSpec,
        messages: Sequence[BaseMessage],
        config: RunnableConfig | None,
        trace: CallTrace,
        *,
        stream: bool,
        format: str | dict[str, Any] | None = None,
    ) -> AsyncIterator[AIMessageChunk]:
        """Relay the answer of ``spec`` (or of its fallbacks) as chunks, filling ``trace``.

        ``format`` is Ollama's: ``"json"`` or a JSON schema the answer must follow.
        """
        options: dict[str, Any] = {} if format is None else {"format": format}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.timeouts.total
        candidates = [spec, *self.catalog.fallback_chain(spec)]
        for index, candidate in enumerate(candidates):
            try:
                async for chunk in self._attempts(
                    candidate,
                    messages,
                    config,
                    trace,
                    stream=stream,
                    deadline=deadline,
                    options=options,
                ):
                    yield chunk
            except (TransientOllamaError, ModelNotFoundError, ContextOverflowError) as error:
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
        options: dict[str, Any],
    ) -> AsyncIterator[AIMessageChunk]:
        loop = asyncio.get_running_loop()
        attempt = 0
        pulled = False
        while True:
            attempt += 1
            trace.attempts += 1
            emitted: list[str] = []
            try:
                profile = await self.profile_for(spec, trace)
                trace.num_ctx = profile.num_ctx
                fitted = fit_messages(messages, profile.counter, profile.budget)
                if fitted.dropped and self.settings.window.summarize_dropped:
                    fitted = await self._summarized(messages, profile, config)
                trace.prompt_tokens_counted = fitted.prompt_tokens
                trace.dropped_messages = fitted.dropped
                trace.cut_message = fitted.cut
                model = self.pool.get(spec, profile.num_ctx)
                async for chunk in self._one_call(
                    model,
                    fitted.messages,
                    config,
                    trace,
                    stream=stream,
                    deadline=deadline,
                    options=options,
                ):
                    if chunk.content or chunk.additional_kwargs.get("reasoning_content"):
                        emitted.append(chunk.text)
                    yield chunk
                self._check_truncation(spec, profile, fitted.messages, fitted.prompt_tokens, trace)
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

    async def _summarized(
        self,
        messages: Sequence[BaseMessage],
        profile: ModelProfile,
        config: RunnableConfig | None,
    ) -> FitResult:
        """Fit with room for a summary, and replace the dropped turns by that summary.

        The default model writes the summary; the window keeps ``summary_tokens`` (and a
        message's overhead) free for it, so the result stays inside the budget.
        """
        window = self.settings.window
        base = profile.budget
        room = window.summary_tokens + profile.counter.overhead.per_message + 16
        narrower = WindowBudget(base.num_ctx, base.answer_reserve + room, base.safety_margin)
        fitted = fit_messages(messages, profile.counter, narrower)
        kept = {id(m) for m in fitted.messages}
        head = [m for m in fitted.messages[:-1] if isinstance(m, SystemMessage)]
        dropped = [m for m in messages[len(head) : -1] if id(m) not in kept]
        quick = self.catalog.models[self.catalog.default_role]
        quick_profile = await self.profile_for(quick)
        transcript = "\n".join(f"{m.type}: {m.text}" for m in dropped)
        transcript = quick_profile.counter.cut_to(
            transcript, max(quick_profile.budget.prompt_tokens - 256, 64)
        )
        model = self.pool.get(quick, quick_profile.num_ctx)
        reply = await model.ainvoke(
            [SystemMessage(SUMMARY_INSTRUCTIONS), HumanMessage(transcript)], config, stream=False
        )
        prefix = "Summary of the earlier conversation: "
        summary = profile.counter.cut_to(
            str(reply.content), window.summary_tokens - profile.counter.count_text(prefix)
        )
        note = SystemMessage(prefix + summary)
        final = [*head, note, *fitted.messages[len(head) :]]
        return FitResult(
            messages=final,
            prompt_tokens=fitted.prompt_tokens + profile.counter.count_message(note),
            dropped=fitted.dropped,
            cut=fitted.cut,
            budget=base.prompt_tokens,
        )

    def _check_truncation(
        self,
        spec: ModelSpec,
        profile: ModelProfile,
        messages: Sequence[BaseMessage],
        counted: int,
        trace: CallTrace,
    ) -> None:
        """Compare our prompt count with Ollama's; flag a prompt Ollama must have cut.

        Two signs: Ollama evaluated more than we counted and its window is (nearly) full,
        or, with exact counts, it evaluated fewer tokens than we counted by more than its
        prompt cache can explain (it can only hold what this model's last prompt shared).
        """
        reported = trace.prompt_tokens
        previous = self._last_prompts.get(spec.name, [])
        self._last_prompts[spec.name] = list(messages)
        if reported is None:
            return
        if reported * 2 > counted:  # far smaller counts come from Ollama's prompt cache
            profile.counter.observe(counted, reported)
        tolerance = 8 + counted // 50
        full = reported > counted + tolerance and reported >= profile.num_ctx * 0.9
        short = profile.counter.exact and reported < counted - tolerance
        if short:  # only now is it worth finding what the cache could hold
            shared = 0
            for mine, theirs in zip(messages, previous, strict=False):
                if mine.type != theirs.type or mine.text != theirs.text:
                    break
                shared += 1
            cacheable = sum(profile.counter.count_messages(messages[:shared]))
            short = reported < counted - cacheable - tolerance
        if full or short:
            trace.truncation_suspected = True
            log.warning(
                "Ollama evaluated %d prompt tokens for %s (num_ctx %d) where we counted %d: "
                "the prompt was probably cut by Ollama (request %s)",
                reported,
                spec.name,
                profile.num_ctx,
                counted,
                trace.request_id,
            )

    async def _one_call(
        self,
        model: Any,
        messages: Sequence[BaseMessage],
        config: RunnableConfig | None,
        trace: CallTrace,
        *,
        stream: bool,
        deadline: float,
        options: dict[str, Any],
    ) -> AsyncIterator[AIMessageChunk]:
        loop = asyncio.get_running_loop()
        timeouts = self.settings.timeouts
        if not stream:
            limit = min(loop.time() + timeouts.response, deadline)
            try:
                async with asyncio.timeout_at(limit):
                    if _observed(config):
                        message = await model.ainvoke(
                            list(messages), config, stream=False, **options
                        )
                    else:  # nobody listens: skip LangChain's per-call run bookkeeping
                        result = await model._agenerate(list(messages), stream=False, **options)
                        generation = result.generations[0]
                        message = generation.message
                        message.response_metadata = generation.generation_info or {}
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
        source: Any = (
            model.astream(list(messages), config, **options)
            if _observed(config)
            else _bare_chunks(model, messages, options)
        )
        chunks = source.__aiter__()
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
