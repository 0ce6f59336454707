"""``ModelManager``: the facade ZERO's agents call.

In: settings (arguments > ``ZERO_LLM_*`` env > ``zero_llm.toml`` > defaults) and requests.
Out: routing decisions, model lifecycle (pull, load, unload, what is loaded) and answers,
whole or streamed, async first with sync twins over the same core (``*_sync``), plus an
LCEL runnable. Building a manager does no I/O: clients are built on first use.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, overload

from zero_llm.answer import Answer, AnswerStream, collect_answer
from zero_llm.calls import ModelProfiles
from zero_llm.catalog import Catalog, ModelSpec
from zero_llm.core import QueryCore
from zero_llm.counting import prompt_tokens, text_tokens
from zero_llm.database import Database
from zero_llm.errors import InvalidRequestError, ModelNotFoundError, UnknownModelError
from zero_llm.history import HistoryStore, SyncHistoryStore
from zero_llm.ollama.client import LoadedModel, OllamaBackend, ProgressCallback
from zero_llm.ollama.hosts import HostPool, HostState
from zero_llm.requests import QueryRequest, check_text, make_request
from zero_llm.routing.router import RouteDecision, route
from zero_llm.runtime import Runtime, runtime_from_overrides
from zero_llm.server_models import full_name, resolve_on_server
from zero_llm.settings import ZeroLLMSettings, mask_url
from zero_llm.sync_bridge import SyncBridge
from zero_llm.sync_twins import SyncAnswerStream, sync_stream_twin, sync_twin
from zero_llm.usage import UsageLedger, UsageRecorder

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage
    from langchain_core.runnables import Runnable

    from zero_llm.chat_model import ZeroChatModel
    from zero_llm.memory_plan import GpuBudget, MemoryPlan, SchedulerState

__all__ = ["LoadResult", "ModelManager", "ModelStatus", "SyncAnswerStream"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadResult:
    """What ``load_model`` did."""

    model: str
    pulled: bool
    load_seconds: float
    num_ctx: int
    host: str | None = None
    """The Ollama host it was loaded on."""


@dataclass(frozen=True)
class ModelStatus:
    """One catalog model and its state in Ollama."""

    role: str
    model: str
    tasks: tuple[str, ...]
    present: bool
    loaded: bool
    num_ctx: int | None
    context_length: int | None


class ModelManager:
    """Routes requests to ZERO's local models and runs them through Ollama.

    Async code holds one with ``async with ModelManager() as mm:``: inside the block its
    connections (to Ollama, and the history's database pool) live on that loop (no thread
    hand-off per call) and its end closes them. Used without a block (sync code, notebooks,
    several ``asyncio.run`` in turn), one pool on the sync bridge's loop serves every
    caller; ``close()`` closes it.

    Args:
        settings: ready settings; when omitted they are read from all sources, with
            ``overrides`` (any ``ZeroLLMSettings`` field) winning.
        **overrides: settings fields, e.g. ``ollama_host=...``.
    """

    def __init__(
        self,
        settings: ZeroLLMSettings | None = None,
        *,
        runtime: Runtime | None = None,
        **overrides: Any,
    ) -> None:
        self.runtime = runtime or runtime_from_overrides(settings, overrides)
        self._runnable: Runnable[Any, Any] | None = None

    # ------------------------------------------------------------ the parts
    @property
    def settings(self) -> ZeroLLMSettings:
        """The settings the runtime was built from."""
        return self.runtime.settings

    @property
    def catalog(self) -> Catalog:
        """The configured models and their roles."""
        return self.runtime.catalog

    @property
    def hosts(self) -> HostPool:
        """The pool of Ollama hosts queries and lifecycle calls go through."""
        return self.runtime.hosts

    @property
    def backend(self) -> OllamaBackend:
        """The primary (first configured) host's client."""
        return self.runtime.hosts.primary

    @property
    def profiles(self) -> ModelProfiles:
        """Each model's profile (num_ctx, counter, budget) on each host."""
        return self.runtime.profiles

    @property
    def core(self) -> QueryCore:
        """The one query core every query path runs through."""
        return self.runtime.core

    @property
    def bridge(self) -> SyncBridge:
        """The sync bridge the ``*_sync`` methods (and sync LangChain calls) run through."""
        return self.runtime.bridge

    # -------------------------------------------------------------- routing
    def switch_model(self, task: str) -> str:
        """Return the model that serves a task type (unknown tasks: the default model)."""
        check_text(task, "task")
        return route(self.catalog, task=task, text="").model

    def route(self, text: str, task: str | None = None) -> RouteDecision:
        """Decide which model answers ``text`` (by ``task`` when given), with the reason."""
        check_text(text, "text", allow_empty=task is not None)
        return route(
            self.catalog,
            task=task,
            text=text,
            threshold=self.settings.routing.confidence_threshold,
            switch_threshold=self.settings.routing.switch_threshold,
        )

    def spec(self, model_name: str) -> ModelSpec:
        """The catalog entry for a model name, short alias or role (UnknownModelError if none)."""
        check_text(model_name, "model_name")
        return self.catalog.resolve(model_name)

    async def resolve_model(self, model_name: str) -> ModelSpec:
        """The spec of a catalog name, or of any model the Ollama server has (``/api/show``).

        A name neither knows raises ``UnknownModelError`` with the closest names.
        """
        check_text(model_name, "model_name")
        return await resolve_on_server(self.catalog, self.backend, model_name)

    # ------------------------------------------------------------ lifecycle
    # Lifecycle calls go through the host pool: a model is pulled and loaded on the host
    # the pool would place its queries on; it is unloaded and removed wherever it is.
    async def load_model(
        self, model_name: str, progress: ProgressCallback | None = None
    ) -> LoadResult:
        """Make a model ready: pull it if missing (reporting progress), then load it.

        Any model the server has works, not only the catalog's. The host is the one the
        pool places the model's queries on (the first host when there is one).
        """
        spec = await self.resolve_model(model_name)
        host = await self.hosts.place(spec.name)
        backend = host.backend
        pulled = False
        if spec.name not in await backend.present_models():
            if not self.settings.auto_pull:
                raise ModelNotFoundError(
                    f"{spec.name} is not present in Ollama at {backend.base_url} and "
                    f"auto_pull is off: run `zero-llm pull {spec.name}` "
                    f"(or `ollama pull {spec.name}`), or enable auto_pull",
                    model=spec.name,
                )
            await self.profiles.pull(spec, backend, progress=progress)
            pulled = True
        profile = await self.profiles.resolve(spec, backend, progress=progress)
        seconds = await self.runtime.calls.load(spec, profile.num_ctx, backend)
        self.hosts.note_loaded(host, spec.name)
        log.info(
            "loaded %s on %s (num_ctx=%d, pulled=%s) in %.2fs",
            spec.name,
            backend.base_url,
            profile.num_ctx,
            pulled,
            seconds,
        )
        return LoadResult(spec.name, pulled, seconds, profile.num_ctx, backend.base_url)

    async def pull_model(self, model_name: str, progress: ProgressCallback | None = None) -> str:
        """Pull a model (even if present: that refreshes it); return its full name.

        A catalog name, alias or role pulls that model; any other name is pulled as Ollama
        names it (``mistral`` is ``mistral:latest``), and the registry decides. The host
        is the one the pool places the model's queries on.
        """
        check_text(model_name, "model_name")
        try:
            spec = self.catalog.resolve(model_name)
        except UnknownModelError:
            spec = ModelSpec(name=full_name(model_name), fallback=False)
        host = await self.hosts.place(spec.name)
        await self.profiles.pull(spec, host.backend, progress=progress)
        return spec.name

    async def _hosts_with(self, name: str, *, loaded: bool) -> list[HostState]:
        """The hosts that have ``name`` (in memory with ``loaded``); the first if none does.

        With one host nothing is asked: that host answers for itself (a 404 names what is
        missing).
        """
        hosts = self.hosts.hosts
        if len(hosts) == 1:
            return hosts
        found = []
        for host in hosts:
            backend = host.backend
            names = (
                {m.name for m in await backend.loaded()}
                if loaded
                else await backend.present_models()
            )
            if name in names:
                found.append(host)
        return found or hosts[:1]

    async def delete_model(self, model_name: str) -> str:
        """Remove a model from the disk of every Ollama host that has it; return its full name."""
        spec = await self.resolve_model(model_name)
        for host in await self._hosts_with(spec.name, loaded=False):
            await host.backend.delete(spec.name)
        return spec.name

    async def model_statuses(self) -> list[ModelStatus]:
        """The catalog with each model's state: present, loaded, planned num_ctx, context length.

        A model is present or loaded when it is on any host of the pool; its planned
        ``num_ctx`` is the primary host's.
        """
        present: dict[str, OllamaBackend] = {}
        loaded: set[str] = set()
        for host in reversed(self.hosts.hosts):  # the primary host's answers win
            present.update(dict.fromkeys(await host.backend.present_models(), host.backend))
            loaded.update(m.name for m in await host.backend.loaded())
        plan = await self.memory_plan()
        statuses = []
        for role, spec in self.catalog.models.items():
            length = None
            num_ctx = self.profiles.known_num_ctx(spec)
            if spec.name in present:
                shown = await present[spec.name].show(spec.name)
                length = shown.context_length
                num_ctx = plan.num_ctx_for(spec.name) or self.profiles.window_for(spec, length)
            statuses.append(
                ModelStatus(
                    role,
                    spec.name,
                    spec.tasks,
                    spec.name in present,
                    spec.name in loaded,
                    num_ctx,
                    length,
                )
            )
        return statuses

    async def unload_model(self, model_name: str) -> None:
        """Evict a model from the memory of every Ollama host that holds it, now."""
        name = (await self.resolve_model(model_name)).name
        for host in await self._hosts_with(name, loaded=True):
            await host.backend.unload(name)

    async def loaded_models(self) -> list[LoadedModel]:
        """The models in Ollama's memory now, on every host of the pool."""
        loaded: list[LoadedModel] = []
        for host in self.hosts.hosts:
            loaded.extend(await host.backend.loaded())
        return loaded

    async def memory_plan(self, host: str | None = None) -> MemoryPlan:
        """A host's memory plan (the primary's by default): each model's num_ctx and footprint."""
        state = self.hosts.by_url(host) if host is not None else self.hosts.hosts[0]
        if state is None:
            raise InvalidRequestError(
                f"{host!r} is not a host of the pool: {[h.url for h in self.hosts.hosts]}"
            )
        return await self.runtime.residency.plan(state.url, state.backend)

    async def gpu_budget(self) -> GpuBudget:
        """The GPU memory the plan uses, and where that number came from."""
        return await self.runtime.residency.budget()

    def residency_state(self) -> dict[str, SchedulerState]:
        """Per host: what its scheduler believes resident, loading, in flight and queued."""
        return {
            host.url: planned.scheduler.state()
            for host in self.hosts.hosts
            if (planned := self.runtime.residency.of(host.url)) is not None
        }

    # -------------------------------------------------------------- counting
    async def count_tokens(
        self,
        messages: Sequence[BaseMessage] | str,
        *,
        model: str | None = None,
        task: str | None = None,
        tools: Sequence[Any] | None = None,
    ) -> int:
        """Tokens the prompt of ``messages`` and ``tools`` takes for the model that would answer.

        Exact (the model's template, default system prompt and tools, by its own
        vocabulary) once the model's facts are known; the first count of a model asks
        ``/api/show`` once. ``model`` or ``task`` pick the model; else it is routed.
        """
        return await prompt_tokens(self.runtime, messages, model=model, task=task, tools=tools)

    async def count_text_tokens(
        self, text: str, *, model: str | None = None, task: str | None = None
    ) -> int:
        """Tokens of a bare text in the vocabulary of the model that would answer it."""
        return await text_tokens(self.runtime, text, model=model, task=task)

    count_tokens_sync = sync_twin(count_tokens)

    # -------------------------------------------------------------- queries
    def chat_model(
        self,
        task: str | None = None,
        model: str | None = None,
        session_id: str | None = None,
        *,
        session_from_thread: bool = False,
    ) -> ZeroChatModel:
        """A LangChain chat model on this manager's core, for agents (see ``ZeroChatModel``)."""
        from zero_llm.chat_model import ZeroChatModel

        if task is not None:
            check_text(task, "task")
        if model is not None:  # a name the catalog lacks is looked up on the server at the call
            check_text(model, "model")
        return ZeroChatModel(
            self,
            task=task,
            model=model,
            session_id=session_id,
            session_from_thread=session_from_thread,
        )

    @property
    def history(self) -> HistoryStore:
        """The conversation store (SQLite under ``home`` unless ``history_url`` says else)."""
        return self.runtime.storage.history

    @property
    def history_sync(self) -> SyncHistoryStore:
        """The conversation store for sync callers."""
        return SyncHistoryStore(self.history, self.bridge)

    @overload
    async def query_model(
        self,
        model_name: str,
        input_text: str,
        context: str = ...,
        stream: Literal[False] = ...,
        *,
        session_id: str | None = ...,
    ) -> Answer: ...

    @overload
    async def query_model(
        self,
        model_name: str,
        input_text: str,
        context: str = ...,
        stream: Literal[True] = ...,
        *,
        session_id: str | None = ...,
    ) -> AnswerStream: ...

    @overload
    async def query_model(
        self,
        model_name: str,
        input_text: str,
        context: str = ...,
        stream: bool = ...,
        *,
        session_id: str | None = ...,
    ) -> Answer | AnswerStream: ...

    async def query_model(
        self,
        model_name: str,
        input_text: str,
        context: str = "",
        stream: bool = False,
        *,
        session_id: str | None = None,
    ) -> Answer | AnswerStream:
        """Ask one model: the whole answer (``str``), or with ``stream`` an async text stream."""
        if not isinstance(stream, bool):
            raise InvalidRequestError(f"stream must be True or False, got {stream!r}")
        if not isinstance(model_name, str):  # None would silently route instead
            raise InvalidRequestError(
                f"model_name must be a model name, alias or role, got {model_name!r}; "
                "to let zero_llm choose, use ask()"
            )
        request = make_request(input_text, context, model=model_name, session_id=session_id)
        return await self._answer(request, stream)

    async def ask(
        self,
        input_text: str,
        *,
        task: str | None = None,
        context: str = "",
        stream: bool = False,
        session_id: str | None = None,
    ) -> Answer | AnswerStream:
        """Ask whichever model the router picks (by ``task``, or from the text itself)."""
        request = make_request(input_text, context, task=task, session_id=session_id)
        return await self._answer(request, stream)

    async def _answer(self, request: QueryRequest, stream: bool) -> Answer | AnswerStream:
        chunks, trace = self.core.chunks(request, stream=stream)
        if stream:
            return AnswerStream(chunks, trace)
        return await collect_answer(chunks, trace)

    @property
    def database(self) -> Database:
        """The SQL database of the history and the usage ledger (opened on first use)."""
        return self.runtime.storage.database

    @property
    def usage(self) -> UsageLedger:
        """The usage ledger: one record per model call, read back and summarized."""
        return self.runtime.storage.usage

    @property
    def usage_recorder(self) -> UsageRecorder:
        """The callback handler that writes usage records to the ledger."""
        return self.runtime.storage.recorder

    async def flush_usage(self) -> None:
        """Wait until every usage record so far is written."""
        await self.runtime.storage.flush()

    async def aclose(self) -> None:
        """Write pending usage records; close this loop's Ollama and database connections."""
        await self.runtime.aclose()

    def __repr__(self) -> str:
        """The hosts, the catalog's roles and models, and where the history is (no secrets)."""
        hosts = [host.url for host in self.settings.host_list()]
        roles = {role: spec.name for role, spec in self.catalog.models.items()}
        history = mask_url(self.settings.history_database_url)
        encrypted = (
            ", encrypted" if self.settings.history_key or self.settings.history_key_file else ""
        )
        return (
            f"ModelManager(hosts={hosts!r}, models={roles!r}, "
            f"default_role={self.catalog.default_role!r}, history={history!r}{encrypted})"
        )

    async def __aenter__(self) -> ModelManager:
        """Serve this block's async calls on its own loop, with no hop (see ``Runtime``)."""
        await self.runtime.__aenter__()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Write pending usage and close the connections the block opened."""
        await self.runtime.__aexit__(*exc_info)

    def __enter__(self) -> ModelManager:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---------------------------------------------------------------- LCEL
    def as_runnable(self) -> Runnable[Any, Any]:
        """The manager as an LCEL Runnable: a RunnableBranch over one pipeline per model."""
        if self._runnable is None:
            from zero_llm.runnable import build_router_runnable

            pipelines = {
                role: self.chat_model(model=spec.name) for role, spec in self.catalog.models.items()
            }
            self._runnable = build_router_runnable(self.catalog, self.core.decide, pipelines)
        return self._runnable

    # ------------------------------------------------------------ sync twins
    # Each runs its async method's coroutine on the sync bridge (works inside Jupyter's
    # running loop too); an answer stream comes back as an iterator of text.
    load_model_sync = sync_twin(load_model)
    unload_model_sync = sync_twin(unload_model)
    loaded_models_sync = sync_twin(loaded_models)
    query_model_sync = sync_stream_twin(query_model)
    ask_sync = sync_stream_twin(ask)
    close = sync_twin(aclose)
