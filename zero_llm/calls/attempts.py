"""Fallback x retry x admission: the attempts around one Ollama call.

In: a model spec, the prompt messages, tools, ``format``, stop words, sampling and a
``CallTrace``. Out: the answer's ``AIMessageChunk``s, from ``spec`` or from a model of its
fallback chain, with

* each attempt placed on a host by the host pool, the model's profile on that host
  resolved (``calls.profiles``), and the prompt fitted into that host's window
  (``zero_llm.window``);
* the host's residency scheduler admitting the call (it may wait for another model's
  batch, bounded by ``memory.max_swap_wait`` and the call's deadline);
* retries of transient failures only (``RetryPolicy``), up to the configured attempts,
  with backoff; a stream is retried only while nothing has been yielded from it, after
  which a failure raises ``StreamInterruptedError`` carrying the partial text;
* a missing model pulled once when ``auto_pull`` is on;
* fallbacks along the spec's chain when a model fails for good (unless the role forbids
  them); when every model fails, the error names the requested model first;
* Ollama's prompt count compared with ours afterwards (``calls.truncation``).

The call itself and its deadlines are ``calls.ollama_call``'s. Only transport and Ollama
failures are translated (``zero_llm.ollama.translate``): anything else is a bug or a
changed library and propagates unchanged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack
from typing import Any

from langchain_core.messages import AIMessageChunk, BaseMessage

from zero_llm.answer import CallTrace, FallbackStep, RetryStep
from zero_llm.calls.ollama_call import CallOptions, by_deadline, ollama_chat
from zero_llm.calls.profiles import ModelProfiles
from zero_llm.calls.truncation import TruncationCheck
from zero_llm.catalog import Catalog, ModelSpec
from zero_llm.errors import (
    ContextOverflowError,
    ModelNotFoundError,
    OllamaError,
    StreamInterruptedError,
    ToolsNotSupportedError,
    TransientOllamaError,
    ZeroLLMError,
)
from zero_llm.ollama.client import OllamaBackend
from zero_llm.ollama.hosts import HostPool, HostState
from zero_llm.ollama.translate import translate_error
from zero_llm.requests import SamplingOverrides
from zero_llm.residency import Residency
from zero_llm.retry import RetryPolicy
from zero_llm.settings import ZeroLLMSettings
from zero_llm.window import fit_messages

__all__ = ["GIVE_UP", "CallRunner"]

log = logging.getLogger(__name__)

GIVE_UP = (TransientOllamaError, ModelNotFoundError, ContextOverflowError, ToolsNotSupportedError)
"""Failures after which the next model of the fallback chain is tried."""


class CallRunner:
    """Runs a prompt on a model (or its fallbacks) with retries, admission and a fitted window.

    Args:
        settings: timeouts, window and answer limits, ``auto_pull``.
        catalog: the models and their fallback chains.
        hosts: the host pool that places each attempt.
        profiles: each model's profile on each host.
        residency: each host's memory plan and scheduler.
        policy: which failures are retried, and the backoff.
    """

    def __init__(
        self,
        settings: ZeroLLMSettings,
        catalog: Catalog,
        hosts: HostPool,
        profiles: ModelProfiles,
        residency: Residency,
        policy: RetryPolicy,
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.hosts = hosts
        self.profiles = profiles
        self.residency = residency
        self.policy = policy
        self.truncation = TruncationCheck()

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
        call = CallOptions(tuple(tools), format, tuple(stop) if stop else None, stream, sampling)
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
        call: CallOptions,
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
                async with by_deadline(
                    deadline, spec, f"{host.url} did not describe {spec.name} (/api/show)"
                ):
                    profile = await self.profiles.resolve(spec, host.backend, trace)
                if call.tools and not profile.supports("tools"):
                    raise ToolsNotSupportedError(
                        f"{spec.name} does not support tools (its capabilities: "
                        f"{', '.join(profile.capabilities)}); tools were not sent to it",
                        model=spec.name,
                    )
                trace.num_ctx = profile.num_ctx
                fitted = fit_messages(messages, profile.counter, profile.budget, call.tools)
                trace.prompt_tokens_counted = fitted.prompt_tokens
                trace.dropped_messages = fitted.dropped
                trace.cut_message = fitted.cut
                trace.dropped_rounds = fitted.dropped_rounds
                trace.cut_messages = len(fitted.cut_messages)
                async with AsyncExitStack() as admitted:
                    keep_alive = await self._admit(admitted, host, spec, trace, deadline)
                    async for chunk in ollama_chat(
                        host.backend,
                        spec,
                        profile.num_ctx,
                        fitted.messages,
                        trace,
                        call,
                        timeouts=self.settings.timeouts,
                        max_answer_chars=self.settings.max_answer_chars,
                        deadline=deadline,
                        keep_alive=keep_alive,
                    ):
                        if chunk.content or chunk.additional_kwargs.get("reasoning_content"):
                            emitted.append(chunk.text)
                        yield chunk
                await self.residency.after_call(
                    host.url, host.backend, spec.name, cold=trace.cold_load is not None
                )
                self.truncation.check(spec, profile, fitted.messages, fitted.prompt_tokens, trace)
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
                    await self.profiles.pull(spec, host.backend, trace)
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
        async with by_deadline(deadline, spec, waited):
            ticket = await stack.enter_async_context(
                planned.scheduler.admit(spec.name, trace.session_id or trace.request_id)
            )
        trace.queue_wait_s = (trace.queue_wait_s or 0.0) + ticket.queue_wait_s
        if ticket.cold_load is not None:
            trace.cold_load = ticket.cold_load
            trace.evicted = ticket.evicting
        return planned.scheduler.keep_alive_for(spec.name)


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
