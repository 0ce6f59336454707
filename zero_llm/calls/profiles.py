"""Model profiles: what a model is on one host, resolved once per (host, model).

In: a model spec, the host's client, the settings (window ceilings, answer reserve, exact
counts) and the host's memory plan. Out: a ``ModelProfile``: the model's one fixed
``num_ctx`` (the smallest ceiling that applies, then the host's plan), its token counter
(exact by its own vocabulary when it can be read, else the estimate), its prompt budget
and Ollama's capabilities. A missing model is pulled first when ``auto_pull`` is on.

Profiles are cached by (host URL, model): each host's plan gives its own ``num_ctx``.
Concurrent first calls resolve a profile once (``SingleFlight``), from any event loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import TypeVar

from zero_llm.answer import CallTrace
from zero_llm.catalog import ModelSpec
from zero_llm.errors import ModelNotFoundError, OllamaError, ZeroLLMError
from zero_llm.ollama.client import OllamaBackend, ProgressCallback, ShownModel
from zero_llm.prompt.shape import prompt_shape
from zero_llm.residency import Residency
from zero_llm.retry import RetryPolicy
from zero_llm.settings import ZeroLLMSettings
from zero_llm.tokens import EstimatingCounter, ExactCounter, TokenCounter, overhead_for_template
from zero_llm.vocab import (
    UnsupportedVocabularyError,
    cached_encoding,
    encoding_from_show,
    remember_encoding,
)
from zero_llm.window import WindowBudget

__all__ = ["ModelProfile", "ModelProfiles", "SingleFlight"]

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class ModelProfile:
    """What a call needs to know of one model on one host: num_ctx, counter, budget."""

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


class SingleFlight:
    """One run of a piece of work per key at a time, whatever thread or event loop asks.

    Later callers wait for the running one to end, then look again (``found``): a failed
    run leaves the next caller to try. Waiting is loop-independent (a thread-safe future),
    so no lock is bound to one event loop.
    """

    def __init__(self) -> None:
        self._running: dict[Hashable, concurrent.futures.Future[None]] = {}
        self._guard = threading.Lock()

    async def run(
        self, key: Hashable, found: Callable[[], T | None], work: Callable[[], Awaitable[T]]
    ) -> T:
        """``found()`` if it has a value, else ``work()`` run once for every concurrent caller."""
        while True:
            value = found()
            if value is not None:
                return value
            with self._guard:
                running = self._running.get(key)
                if running is None:
                    mine = self._running[key] = concurrent.futures.Future()
            if running is not None:
                await asyncio.shield(asyncio.wrap_future(running))
                continue
            try:
                return await work()
            finally:
                with self._guard:
                    del self._running[key]
                mine.set_result(None)


class ModelProfiles:
    """Resolves and caches each model's profile on each host (see the module docstring)."""

    def __init__(
        self,
        settings: ZeroLLMSettings,
        residency: Residency,
        primary: OllamaBackend,
        policy: RetryPolicy,
    ) -> None:
        self.settings = settings
        self.residency = residency
        self.primary = primary
        self.policy = policy
        self._profiles: dict[tuple[str, str], ModelProfile] = {}
        self._versions: dict[str, str | None] = {}
        self._resolving = SingleFlight()

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

    def known(self, name: str, host: str | None = None) -> ModelProfile | None:
        """The profile of a model resolved already on ``host`` (else on any host, primary first)."""
        found = self._profiles.get((host or self.primary.base_url, name))
        if found is not None:
            return found
        return next((p for (_, model), p in self._profiles.items() if model == name), None)

    def known_num_ctx(self, spec: ModelSpec) -> int | None:
        """The model's num_ctx if it has been resolved already (on the primary host if there)."""
        profile = self.known(spec.name)
        return profile.num_ctx if profile else None

    async def resolve(
        self,
        spec: ModelSpec,
        backend: OllamaBackend | None = None,
        trace: CallTrace | None = None,
        progress: ProgressCallback | None = None,
    ) -> ModelProfile:
        """The profile of ``spec`` on ``backend`` (the primary host by default), resolved once.

        Asks ``/api/show`` (and pulls the model first when it is missing and ``auto_pull``
        is on), plans the host's memory, and builds the model's token counter.
        """
        backend = backend or self.primary
        key = (backend.base_url, spec.name)
        return await self._resolving.run(
            key,
            lambda: self._profiles.get(key),
            lambda: self._resolved(spec, backend, trace, progress),
        )

    async def _resolved(
        self,
        spec: ModelSpec,
        backend: OllamaBackend,
        trace: CallTrace | None,
        progress: ProgressCallback | None,
    ) -> ModelProfile:
        try:
            shown = await backend.show(spec.name)
        except ModelNotFoundError:
            if not self.settings.auto_pull:
                raise
            await self.pull(spec, backend, trace, progress)
            shown = await backend.show(spec.name)
        num_ctx = self.window_for(spec, shown.context_length)
        planned = await self.residency.plan_for(backend.base_url, backend, {spec.name: shown})
        if planned is not None:
            num_ctx = planned.plan.num_ctx_for(spec.name) or num_ctx
        counter = await self._counter_for(spec, shown, backend)
        profile = ModelProfile(num_ctx, counter, self.budget_for(spec, num_ctx), shown.capabilities)
        self._profiles[(backend.base_url, spec.name)] = profile
        return profile

    async def _counter_for(
        self, spec: ModelSpec, shown: ShownModel, backend: OllamaBackend
    ) -> TokenCounter:
        """The model's counter: exact by its vocabulary (saved by digest), else the estimate."""
        overhead = overhead_for_template(shown.template)
        shape = prompt_shape(spec, shown, await self.server_version(backend))
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

    async def server_version(self, backend: OllamaBackend) -> str | None:
        """Ollama's version on a host (how it renders tools depends on it); None if unknown.

        Asked once per host, not once per model.
        """
        if backend.base_url not in self._versions:
            try:
                self._versions[backend.base_url] = await backend.version() or None
            except ZeroLLMError:
                return None  # asked again next time
        return self._versions[backend.base_url]

    async def pull(
        self,
        spec: ModelSpec,
        backend: OllamaBackend | None = None,
        trace: CallTrace | None = None,
        progress: ProgressCallback | None = None,
    ) -> None:
        """Pull a model, retrying transient failures by the retry policy; note it in the trace.

        The model's profile on that host is resolved afresh afterwards, and the host's
        memory planned again with the new model's facts.
        """
        backend = backend or self.primary
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
        self.residency.forget(backend.base_url)
        if trace is not None:
            trace.pulled.append(spec.name)
