"""The query engine: fallback x retry x deadline over one Ollama chat call.

Every query path (``query_model``, ``ask``, ``ZeroChatModel``, the LCEL runnable, the
chains) ends here, after routing, memory and the prompt's messages are decided.

In: a model spec, the prompt messages, tools, ``format`` and a ``CallTrace``.
Out: ``AIMessageChunk``s (text, thinking apart, tool-call chunks, Ollama's counts on the
last one), with

* the model's fixed ``num_ctx``, capabilities and token counter resolved once
  (``/api/show``), the model pulled first when it is missing and auto-pull is on;
* the prompt fitted into the model's window (``zero_llm.window``), and Ollama's own
  prompt count compared with ours afterwards to catch a silently cut prompt;
* retries of transient failures only (``RetryPolicy``), up to the configured attempts,
  with backoff; a stream is retried only while nothing has been yielded from it, after
  which a failure raises ``StreamInterruptedError`` carrying the partial text;
* deadlines: first token, stall between chunks, the whole non-streamed answer, total;
* fallbacks along the spec's chain when a model fails for good (unless the role forbids
  them); when every model fails, the error names the requested model first.

Only transport and Ollama failures are translated (``zero_llm.ollama.translate``):
anything else is a bug or a changed library and propagates unchanged. The engine is the
only writer of the trace's call fields; it talks to Ollama through ``OllamaBackend``.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessageChunk, BaseMessage, HumanMessage, SystemMessage

from zero_llm.answer import CallTrace, FallbackStep, RetryStep
from zero_llm.catalog import Catalog, ModelSpec
from zero_llm.errors import (
    AnswerTooLongError,
    ContextOverflowError,
    ModelNotFoundError,
    OllamaError,
    OllamaServerError,
    OllamaTimeoutError,
    StreamInterruptedError,
    ToolsNotSupportedError,
    TransientOllamaError,
    ZeroLLMError,
)
from zero_llm.ollama.client import ModelFacts, OllamaBackend, ProgressCallback
from zero_llm.ollama.hosts import HostPool, HostState
from zero_llm.ollama.messages import chunk_from_part, to_ollama_messages
from zero_llm.ollama.options import check_options
from zero_llm.ollama.translate import translate_error
from zero_llm.prompt.shape import prompt_shape
from zero_llm.requests import SamplingOverrides
from zero_llm.residency import Residency
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

GIVE_UP = (TransientOllamaError, ModelNotFoundError, ContextOverflowError, ToolsNotSupportedError)
"""Failures after which the next model of the fallback chain is tried."""


@dataclass(frozen=True)
class ModelProfile:
    """What the engine knows of one model: its num_ctx, token counter and prompt budget."""

    num_ctx: int
    counter: TokenCounter
    budget: WindowBudget
    capabilities: tuple[str, ...] = ()

    def supports(self, capability: str) -> bool:
        """Whether Ollama lists ``capability`` (e.g. ``tools``) for the model.

        A model whose ``/api/show`` lists no capabilities at all (older servers) is
        taken to support it: Ollama itself then answers if it does not.
        """
        return not self.capabilities or capability in self.capabilities


class QueryEngine:
    """Runs prompts against the catalog's models with num_ctx, retries, deadlines, fallbacks."""

    def __init__(
        self,
        settings: ZeroLLMSettings,
        catalog: Catalog,
        hosts: HostPool,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.hosts = hosts
        self.backend = hosts.primary
        self.policy = policy or RetryPolicy(settings.retry)
        self.residency = Residency(settings, catalog)
        hosts.has_room = lambda host, model: self.residency.has_room(
            host.url, set(host.resident), model
        )
        self._profiles: dict[tuple[str, str], ModelProfile] = {}
        """Profiles by (host URL, model): each host's memory plan gives its own num_ctx."""
        self._versions: dict[str, str | None] = {}
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

    def profile_of(self, name: str, host: str | None = None) -> ModelProfile | None:
        """The resolved profile of a model on ``host`` (else on any host, the first first)."""
        found = self._profiles.get((host or self.backend.base_url, name))
        if found is not None:
            return found
        return next((p for (_, model), p in self._profiles.items() if model == name), None)

    def known_num_ctx(self, spec: ModelSpec) -> int | None:
        """The model's num_ctx if it has been resolved already (on the first host if there)."""
        profile = self.profile_of(spec.name)
        return profile.num_ctx if profile else None

    async def load(self, spec: ModelSpec, num_ctx: int, backend: OllamaBackend) -> float:
        """Load ``spec`` on ``backend`` when its scheduler admits it; return the load seconds.

        Like a call, a load waits for its turn (it may evict another model) and tells the
        scheduler what is resident afterwards; without a plan it goes at once.
        """
        planned = await self.residency.plan_for(backend.base_url, backend)
        if planned is None:
            return await backend.load(spec.name, num_ctx, spec.keep_alive)
        async with planned.scheduler.admit(spec.name):
            seconds = await backend.load(
                spec.name, num_ctx, planned.scheduler.keep_alive_for(spec.name)
            )
        await self.residency.after_call(backend.base_url, backend, spec.name, cold=True)
        return seconds

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
        backend: OllamaBackend | None = None,
    ) -> ModelProfile:
        """Resolve (once) what a model needs: num_ctx, its token counter and prompt budget.

        ``backend`` is the host to ask (and to pull on); by default the first host.
        """
        backend = backend or self.backend
        key = (backend.base_url, spec.name)
        cached = self._profiles.get(key)
        if cached is not None:
            return cached
        async with self._lock_for(f"{backend.base_url} {spec.name}"):
            cached = self._profiles.get(key)
            if cached is not None:
                return cached
            try:
                facts = await backend.show(spec.name)
            except ModelNotFoundError:
                if not self.settings.auto_pull:
                    raise
                await self.pull(spec, trace, progress, backend)
                facts = await backend.show(spec.name)
            num_ctx = self.window_for(spec, facts.context_length)
            planned = await self.residency.plan_for(backend.base_url, backend, {spec.name: facts})
            if planned is not None:
                num_ctx = planned.plan.num_ctx_for(spec.name) or num_ctx
            counter = await self._counter_for(spec, facts, backend)
            profile = ModelProfile(
                num_ctx, counter, self.budget_for(spec, num_ctx), facts.capabilities
            )
            self._profiles[key] = profile
            return profile

    async def _counter_for(
        self, spec: ModelSpec, facts: ModelFacts, backend: OllamaBackend
    ) -> TokenCounter:
        overhead = overhead_for_template(facts.template)
        shape = prompt_shape(spec, facts, await self._server_version(backend))
        if not self.settings.window.exact_counts:
            return EstimatingCounter(overhead, shape)
        digest = await backend.digest(spec.name)
        saved = self.settings.home.expanduser() / "encodings"
        encoding = await asyncio.to_thread(cached_encoding, digest, saved) if digest else None
        if encoding is None:
            verbose = await backend.show_verbose(spec.name)
            try:
                encoding = await asyncio.to_thread(
                    encoding_from_show, spec.name, verbose.get("model_info") or {}
                )
            except UnsupportedVocabularyError as exc:
                log.info("counting %s by estimate: %s", spec.name, exc)
                return EstimatingCounter(overhead, shape)
            if digest:
                await asyncio.to_thread(remember_encoding, digest, encoding, saved)
        return ExactCounter(encoding, overhead, shape)

    async def _server_version(self, backend: OllamaBackend) -> str | None:
        """Ollama's version on a host (how it renders tools depends on it); None if unknown.

        Asked once per host, not once per model.
        """
        if backend.base_url not in self._versions:
            try:
                self._versions[backend.base_url] = await backend.version() or None
            except ZeroLLMError:
                return None  # asked again next time
        return self._versions[backend.base_url]

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
        backend: OllamaBackend | None = None,
    ) -> None:
        """Pull a model, retrying transient failures by the retry policy; note it in the trace."""
        backend = backend or self.backend
        log.info("pulling model %s on %s", spec.name, backend.base_url)
        attempt = 0
        while True:
            attempt += 1
            try:
                await backend.pull(spec.name, progress)
                break
            except ZeroLLMError as error:
                if not self.policy.should_retry(error, attempt):
                    if isinstance(error, OllamaError):
                        error.attempts = attempt
                    raise
                wait = self.policy.backoff(attempt)
                log.warning("pulling %s failed (%s); retrying in %.2fs", spec.name, error, wait)
                await asyncio.sleep(wait)
        self._profiles.pop((backend.base_url, spec.name), None)
        self.residency.forget(backend.base_url)  # plan again with the new model's facts
        if trace is not None:
            trace.pulled.append(spec.name)

    # ---------------------------------------------------------------- core
    async def run(
        self,
        spec: ModelSpec,
        messages: Sequence[BaseMessage],
        trace: CallTrace,
        *,
        stream: bool,
        tools: Sequence[dict[str, Any]] = (),
        format: str | dict[str, Any] | None = None,
        stop: Sequence[str] | None = None,
        sampling: SamplingOverrides | None = None,
    ) -> AsyncIterator[AIMessageChunk]:
        """Relay the answer of ``spec`` (or of its fallbacks) as chunks, filling ``trace``.

        ``format`` is Ollama's: ``"json"`` or a JSON schema the answer must follow.
        ``tools`` are Ollama tool schemas; a model without the ``tools`` capability is
        never sent them (it counts as failed for good, and the chain moves on).
        """
        sampling = sampling or SamplingOverrides()
        call = _Call(tuple(tools), format, tuple(stop) if stop else None, stream, sampling)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (sampling.timeout or self.settings.timeouts.total)
        candidates = [spec, *self.catalog.fallback_chain(spec)] if spec.fallback else [spec]
        failures: list[ZeroLLMError] = []
        for index, candidate in enumerate(candidates):
            try:
                async for chunk in self._attempts(candidate, messages, trace, call, deadline):
                    yield chunk
            except GIVE_UP as error:
                failures.append(error)
                if index == len(candidates) - 1:
                    raise _named_first(failures, candidates) from None
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

    async def complete(self, spec: ModelSpec, messages: Sequence[BaseMessage]) -> str:
        """The whole text answer of ``spec`` to ``messages`` (for internal helper calls)."""
        trace = CallTrace(requested_model=spec.name)
        parts = [chunk.text async for chunk in self.run(spec, messages, trace, stream=False)]
        return "".join(parts)

    async def _attempts(
        self,
        spec: ModelSpec,
        messages: Sequence[BaseMessage],
        trace: CallTrace,
        call: _Call,
        deadline: float,
    ) -> AsyncIterator[AIMessageChunk]:
        loop = asyncio.get_running_loop()
        attempt = 0
        pulled = False
        while True:
            attempt += 1
            trace.attempts += 1
            emitted: list[str] = []
            host = await self.hosts.place(spec.name, trace.session_id)
            trace.host = host.url
            host.in_flight += 1
            try:
                # /api/show and /api/tags count against the call's deadline too
                async with _by_deadline(
                    deadline, spec, f"{host.url} did not describe {spec.name} (/api/show)"
                ):
                    profile = await self.profile_for(spec, trace, backend=host.backend)
                if call.tools and not profile.supports("tools"):
                    raise ToolsNotSupportedError(
                        f"{spec.name} does not support tools (its capabilities: "
                        f"{', '.join(profile.capabilities)}); tools were not sent to it",
                        model=spec.name,
                    )
                trace.num_ctx = profile.num_ctx
                fitted = fit_messages(messages, profile.counter, profile.budget, call.tools)
                if fitted.dropped and self.settings.window.summarize_dropped:
                    fitted = await self._summarized(messages, profile, call.tools)
                trace.prompt_tokens_counted = fitted.prompt_tokens
                trace.dropped_messages = fitted.dropped
                trace.cut_message = fitted.cut
                trace.dropped_rounds = fitted.dropped_rounds
                trace.cut_messages = len(fitted.cut_messages)
                async with AsyncExitStack() as admitted:
                    keep_alive = await self._admit(admitted, host, spec, trace, deadline)
                    async for chunk in self._one_call(
                        host.backend,
                        spec,
                        profile,
                        fitted.messages,
                        trace,
                        call,
                        deadline,
                        keep_alive,
                    ):
                        if chunk.content or chunk.additional_kwargs.get("reasoning_content"):
                            emitted.append(chunk.text)
                        yield chunk
                await self.residency.after_call(
                    host.url, host.backend, spec.name, cold=trace.cold_load is not None
                )
                self._check_truncation(spec, profile, fitted.messages, fitted.prompt_tokens, trace)
                self.hosts.succeeded(host)
                self.hosts.note_loaded(host, spec.name)
                self.hosts.remember_session(trace.session_id, host)
                return
            except Exception as exc:
                error = translate_error(exc, model=spec.name, host=host.url)
                if error is None:
                    raise  # not Ollama's failure: a bug must not pass for one
                self.hosts.failed(host, error)
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
                    await self.pull(spec, trace, backend=host.backend)
                    continue
                if isinstance(error, OllamaError):
                    error.attempts = attempt
                remaining = deadline - loop.time()
                retry = self.policy.should_retry(error, attempt)
                if call.sampling.max_retries is not None:
                    retry = retry and attempt <= call.sampling.max_retries
                if not retry or remaining <= 0:
                    if error is exc:
                        raise
                    raise error from exc
                wait = min(self.policy.backoff(attempt), max(0.0, remaining))
                trace.retries.append(
                    RetryStep(spec.name, attempt, type(error).__name__, str(error), wait, host.url)
                )
                log.warning(
                    "attempt %d of %d for %s at %s failed (%s: %s); retrying in %.2fs",
                    attempt,
                    self.policy.max_attempts,
                    spec.name,
                    host.url,
                    type(error).__name__,
                    error,
                    wait,
                )
                await asyncio.sleep(wait)
            finally:
                host.in_flight -= 1

    async def _admit(
        self,
        stack: AsyncExitStack,
        host: HostState,
        spec: ModelSpec,
        trace: CallTrace,
        deadline: float,
    ) -> str | int:
        """Wait for the host's scheduler to admit a call for ``spec`` (held by ``stack``).

        Returns the ``keep_alive`` the call carries. Without a plan for the host the call
        goes at once with the model's configured ``keep_alive``. The wait counts against
        the call's deadline; what it cost is noted in the trace.
        """
        planned = self.residency.of(host.url)
        if planned is None:
            return spec.keep_alive
        waited = (
            f"{spec.name} waited for its turn on {host.url} (other models' batches were "
            "using the GPU; memory.max_swap_wait bounds that wait)"
        )
        async with _by_deadline(deadline, spec, waited):
            ticket = await stack.enter_async_context(
                planned.scheduler.admit(spec.name, trace.session_id or trace.request_id)
            )
        trace.queue_wait_s = (trace.queue_wait_s or 0.0) + ticket.queue_wait_s
        if ticket.cold_load is not None:
            trace.cold_load = ticket.cold_load
            trace.evicted = ticket.evicting
        return planned.scheduler.keep_alive_for(spec.name)

    async def _summarized(
        self,
        messages: Sequence[BaseMessage],
        profile: ModelProfile,
        tools: Sequence[dict[str, Any]] = (),
    ) -> FitResult:
        """Fit with room for a summary, and replace the dropped turns by that summary.

        The default model writes the summary; the window keeps ``summary_tokens`` (and a
        message's overhead) free for it, so the result stays inside the budget.
        """
        window = self.settings.window
        base = profile.budget
        room = window.summary_tokens + profile.counter.overhead.per_message + 16
        narrower = WindowBudget(base.num_ctx, base.answer_reserve + room, base.safety_margin)
        fitted = fit_messages(messages, profile.counter, narrower, tools)
        kept = {id(m) for m in fitted.messages}
        head = [m for m in fitted.messages[:-1] if isinstance(m, SystemMessage)]
        dropped = [m for m in messages[len(head) : -1] if id(m) not in kept]
        quick = self.catalog.models[self.catalog.default_role]
        quick_profile = await self.profile_for(quick)
        transcript = "\n".join(f"{m.type}: {m.text}" for m in dropped)
        transcript = quick_profile.counter.cut_to(
            transcript, max(quick_profile.budget.prompt_tokens - 256, 64)
        )
        reply = await self.complete(
            quick, [SystemMessage(SUMMARY_INSTRUCTIONS), HumanMessage(transcript)]
        )
        prefix = "Summary of the earlier conversation: "
        summary = profile.counter.cut_to(
            reply, window.summary_tokens - profile.counter.count_text(prefix)
        )
        note = SystemMessage(prefix + summary)
        final = [*head, note, *fitted.messages[len(head) :]]
        return FitResult(
            messages=final,
            prompt_tokens=profile.counter.count_prompt(final, tools),
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
        backend: OllamaBackend,
        spec: ModelSpec,
        profile: ModelProfile,
        messages: Sequence[BaseMessage],
        trace: CallTrace,
        call: _Call,
        deadline: float,
        keep_alive: str | int,
    ) -> AsyncIterator[AIMessageChunk]:
        loop = asyncio.get_running_loop()
        timeouts = self.settings.timeouts
        options: dict[str, Any] = {"num_ctx": profile.num_ctx}
        num_predict = _first(call.sampling.max_tokens, spec.num_predict)
        if num_predict is not None:
            options["num_predict"] = num_predict
        temperature = _first(call.sampling.temperature, spec.temperature)
        if temperature is not None:
            options["temperature"] = temperature
        if call.stop:
            options["stop"] = list(call.stop)
        parts = backend.chat(
            spec.name,
            to_ollama_messages(messages),
            stream=call.stream,
            options=check_options(options),
            keep_alive=keep_alive,
            tools=call.tools,
            think=True if spec.think else None,
            format=call.format,
        )
        if call.stream:
            first = min(loop.time() + timeouts.first_token, deadline)
            what = f"the first chunk within {timeouts.first_token:g}s (timeouts.first_token)"
        else:
            first = min(loop.time() + timeouts.response, deadline)
            what = f"an answer within {timeouts.response:g}s (timeouts.response)"
        limit = first
        tool_index = 0
        done = False
        size = 0
        try:
            while True:
                # The deadline wraps each wait only, never a yield: a slow consumer is not a
                # stalled server.
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
                size += _answer_size(chunk)
                if size > self.settings.max_answer_chars:
                    raise AnswerTooLongError(
                        f"the answer of {spec.name} grew past {self.settings.max_answer_chars} "
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


@dataclass(frozen=True)
class _Call:
    """What one request asks of every attempt: tools, format, stop words, streaming."""

    tools: tuple[dict[str, Any], ...]
    format: str | dict[str, Any] | None
    stop: tuple[str, ...] | None
    stream: bool
    sampling: SamplingOverrides


@asynccontextmanager
async def _by_deadline(deadline: float, spec: ModelSpec, what: str) -> AsyncIterator[None]:
    """Run the block within the call's deadline; past it, an OllamaTimeoutError saying what."""
    try:
        async with asyncio.timeout_at(deadline):
            yield
    except TimeoutError as exc:
        raise OllamaTimeoutError(
            f"{what}: past the call's total deadline (timeouts.total)", model=spec.name
        ) from exc


def _answer_size(chunk: AIMessageChunk) -> int:
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


def _named_first(failures: list[ZeroLLMError], candidates: list[ModelSpec]) -> ZeroLLMError:
    """The requested model's error, its message extended by what each fallback said."""
    first = failures[0]
    if len(failures) > 1:
        tried = "; ".join(
            f"{spec.name}: {type(error).__name__}: {error}"
            for spec, error in zip(candidates[1:], failures[1:], strict=False)
        )
        first.args = (f"{first} (fallbacks failed too: {tried})", *first.args[1:])
    return first
