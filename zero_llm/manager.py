"""``ModelManager``: the facade ZERO's agents call.

In: settings (arguments > ``ZERO_LLM_*`` env > ``zero_llm.toml`` > defaults) and requests.
Out: routing decisions, model lifecycle (pull, load, unload, what is loaded) and answers,
whole or streamed, async first with sync twins over the same core (``*_sync``), plus an
LCEL runnable. Building a manager does no I/O: clients are built on first use.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, overload

from zero_llm.answer import Answer, AnswerStream, CallTrace, collect_answer
from zero_llm.catalog import ModelSpec
from zero_llm.core import QueryCore
from zero_llm.database import Database
from zero_llm.engine import ModelProfile, QueryEngine
from zero_llm.errors import InvalidRequestError, ModelNotFoundError, UnknownModelError
from zero_llm.history import HistoryStore, SyncHistoryStore
from zero_llm.ollama.client import LoadedModel, ProgressCallback, PullProgress
from zero_llm.ollama.hosts import HostPool
from zero_llm.requests import QueryRequest, check_optional_name, check_text, make_request
from zero_llm.routing.router import RouteDecision, route
from zero_llm.server_models import full_name, resolve_on_server
from zero_llm.settings import ZeroLLMSettings, load_settings, mask_url
from zero_llm.sync_bridge import SyncBridge, shared_bridge
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


class SyncAnswerStream(Iterator[str]):
    """The text of an answer as it arrives, for sync callers; ``answer`` once it ends."""

    def __init__(self, stream: AnswerStream, bridge: SyncBridge) -> None:
        self._stream = stream
        self._chunks = bridge.iterate(aiter(stream))

    def __next__(self) -> str:
        return next(self._chunks)

    @property
    def answer(self) -> Answer | None:
        """The whole answer with its trace, once the stream has ended."""
        return self._stream.answer

    @property
    def trace(self) -> CallTrace:
        """The call's trace, filled in as the stream runs."""
        return self._stream.trace

    def close(self) -> None:
        """Stop reading; the request to Ollama is cancelled."""
        self._chunks.close()  # type: ignore[attr-defined]


class ModelManager:
    """Routes requests to ZERO's local models and runs them through Ollama.

    Args:
        settings: ready settings; when omitted they are read from all sources, with
            ``overrides`` (any ``ZeroLLMSettings`` field) winning.
        **overrides: settings fields, e.g. ``ollama_host=...``.
    """

    def __init__(self, settings: ZeroLLMSettings | None = None, **overrides: Any) -> None:
        if settings is not None and overrides:
            settings = settings.model_copy(update=overrides)
        self.settings = settings or load_settings(**overrides)
        self.catalog = self.settings.catalog()
        self.hosts = HostPool(
            self.settings.host_list(),
            self.settings.timeouts,
            refuse_truncation=self.settings.window.refuse_truncation,
        )
        self.backend = self.hosts.primary
        self.engine = QueryEngine(self.settings, self.catalog, self.hosts)
        self.core = QueryCore(
            self.settings,
            self.catalog,
            self.engine,
            lambda: self.history,
            lambda: self.usage_recorder,
        )
        self._bridge = shared_bridge()
        self._runnable: Runnable[Any, Any] | None = None
        self._history: HistoryStore | None = None
        self._database: Database | None = None
        self._usage: UsageLedger | None = None
        self._recorder: UsageRecorder | None = None

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
    async def load_model(
        self, model_name: str, progress: ProgressCallback | None = None
    ) -> LoadResult:
        """Make a model ready: pull it if missing (reporting progress), then load it.

        Any model the server has works, not only the catalog's.
        """
        spec = await self.resolve_model(model_name)
        pulled = False
        if spec.name not in await self.backend.present_models():
            if not self.settings.auto_pull:
                raise ModelNotFoundError(
                    f"{spec.name} is not present in Ollama at {self.backend.base_url} and "
                    f"auto_pull is off: run `zero-llm pull {spec.name}` "
                    f"(or `ollama pull {spec.name}`), or enable auto_pull",
                    model=spec.name,
                )
            await self.engine.pull(spec, progress=progress)
            pulled = True
        num_ctx = await self.engine.num_ctx_for(spec, progress=progress)
        seconds = await self.engine.load(spec, num_ctx, self.backend)
        log.info("loaded %s (num_ctx=%d, pulled=%s) in %.2fs", spec.name, num_ctx, pulled, seconds)
        return LoadResult(spec.name, pulled, seconds, num_ctx)

    async def pull_model(self, model_name: str, progress: ProgressCallback | None = None) -> str:
        """Pull a model (even if present: that refreshes it); return its full name.

        A catalog name, alias or role pulls that model; any other name is pulled as Ollama
        names it (``mistral`` is ``mistral:latest``), and the registry decides.
        """
        check_text(model_name, "model_name")
        try:
            spec = self.catalog.resolve(model_name)
        except UnknownModelError:
            spec = ModelSpec(name=full_name(model_name), fallback=False)
        await self.engine.pull(spec, progress=progress)
        return spec.name

    async def delete_model(self, model_name: str) -> str:
        """Remove a model from the Ollama server's disk; return its full name."""
        spec = await self.resolve_model(model_name)
        await self.backend.delete(spec.name)
        return spec.name

    async def model_statuses(self) -> list[ModelStatus]:
        """The catalog with each model's state: present, loaded, planned num_ctx, context length."""
        present = await self.backend.present_models()
        loaded = {m.name: m for m in await self.backend.loaded()}
        plan = await self.memory_plan()
        statuses = []
        for role, spec in self.catalog.models.items():
            length = None
            num_ctx = self.engine.known_num_ctx(spec)
            if spec.name in present:
                facts = await self.backend.show(spec.name)
                length = facts.context_length
                num_ctx = plan.num_ctx_for(spec.name) or self.engine.window_for(spec, length)
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
        """Evict a model from Ollama's memory now."""
        await self.backend.unload((await self.resolve_model(model_name)).name)

    async def loaded_models(self) -> list[LoadedModel]:
        """The models in Ollama's memory now."""
        return await self.backend.loaded()

    async def memory_plan(self) -> MemoryPlan:
        """The first host's memory plan: each model's num_ctx, footprint and companions."""
        backend = self.hosts.primary
        return await self.engine.residency.plan(backend.base_url, backend)

    async def gpu_budget(self) -> GpuBudget:
        """The GPU memory the plan uses, and where that number came from."""
        return await self.engine.residency.budget()

    def residency_state(self) -> dict[str, SchedulerState]:
        """Per host: what its scheduler believes resident, loading, in flight and queued."""
        return {
            host.url: planned.scheduler.state()
            for host in self.hosts.hosts
            if (planned := self.engine.residency.of(host.url)) is not None
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
        from langchain_core.messages import BaseMessage, HumanMessage
        from langchain_core.utils.function_calling import convert_to_openai_tool

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
        profile = await self._profile_answering(request)
        return profile.counter.count_prompt(request.messages(), request.tools)

    async def count_text_tokens(
        self, text: str, *, model: str | None = None, task: str | None = None
    ) -> int:
        """Tokens of a bare text in the vocabulary of the model that would answer it."""
        check_text(text, "text")
        request = make_request(text, task=None if model is not None else task, model=model)
        profile = await self._profile_answering(request)
        return profile.counter.count_text(text)

    async def _profile_answering(self, request: QueryRequest) -> ModelProfile:
        """The profile of the model that would answer ``request`` (asks /api/show once)."""
        spec, _ = await self.core.decide(request)
        return await self.engine.profile_for(spec)

    def count_tokens_sync(
        self,
        messages: Sequence[BaseMessage] | str,
        *,
        model: str | None = None,
        task: str | None = None,
        tools: Sequence[Any] | None = None,
    ) -> int:
        """Sync twin of ``count_tokens``."""
        return self._bridge.run(self.count_tokens(messages, model=model, task=task, tools=tools))

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
        if self._history is None:
            self._history = HistoryStore(self.database, key=self.settings.history_encryption_key())
        return self._history

    @property
    def history_sync(self) -> SyncHistoryStore:
        """The conversation store for sync callers."""
        return SyncHistoryStore(self.history, self._bridge)

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
        if self._database is None:
            self._database = Database.for_url(self.settings.history_database_url)
        return self._database

    @property
    def usage(self) -> UsageLedger:
        """The usage ledger: one record per model call, read back and summarized."""
        if self._usage is None:
            self._usage = UsageLedger(self.database, key=self.settings.history_encryption_key())
        return self._usage

    @property
    def usage_recorder(self) -> UsageRecorder:
        """The callback handler that writes usage records to the ledger."""
        if self._recorder is None:
            self._recorder = UsageRecorder(
                self.usage, self._bridge, flush_interval=self.settings.usage_flush_interval
            )
        return self._recorder

    async def flush_usage(self) -> None:
        """Wait until every usage record so far is written."""
        if self._recorder is not None:
            await self._recorder.flush()

    async def aclose(self) -> None:
        """Write pending usage records; close this loop's Ollama and database connections."""
        await self.flush_usage()
        await self.hosts.aclose()
        if self._database is not None:
            await self._database.close()

    def close(self) -> None:
        """Sync twin of ``aclose`` (for the connections the sync methods opened)."""
        self._bridge.run(self.aclose())

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
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __enter__(self) -> ModelManager:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------ sync twins
    def load_model_sync(
        self, model_name: str, progress: Callable[[PullProgress], None] | None = None
    ) -> LoadResult:
        """Sync twin of ``load_model`` (works inside Jupyter's running loop too)."""
        return self._bridge.run(self.load_model(model_name, progress))

    def unload_model_sync(self, model_name: str) -> None:
        """Sync twin of ``unload_model``."""
        self._bridge.run(self.unload_model(model_name))

    def loaded_models_sync(self) -> list[LoadedModel]:
        """Sync twin of ``loaded_models``."""
        return self._bridge.run(self.loaded_models())

    def query_model_sync(
        self,
        model_name: str,
        input_text: str,
        context: str = "",
        stream: bool = False,
        *,
        session_id: str | None = None,
    ) -> Answer | SyncAnswerStream:
        """Sync twin of ``query_model``: the answer, or with ``stream`` an iterator of text."""
        result = self._bridge.run(
            self.query_model(model_name, input_text, context, stream, session_id=session_id)
        )
        if isinstance(result, AnswerStream):
            return SyncAnswerStream(result, self._bridge)
        return result

    def ask_sync(
        self,
        input_text: str,
        *,
        task: str | None = None,
        context: str = "",
        stream: bool = False,
        session_id: str | None = None,
    ) -> Answer | SyncAnswerStream:
        """Sync twin of ``ask``."""
        result = self._bridge.run(
            self.ask(input_text, task=task, context=context, stream=stream, session_id=session_id)
        )
        if isinstance(result, AnswerStream):
            return SyncAnswerStream(result, self._bridge)
        return result

    # ---------------------------------------------------------------- LCEL
    def as_runnable(self) -> Runnable[Any, Any]:
        """The manager as an LCEL Runnable: a RunnableBranch over one pipeline per model."""
        if self._runnable is None:
            from zero_llm.runnable import build_router_runnable

            pipelines = {
                role: self.chat_model(model=spec.name) for role, spec in self.catalog.models.items()
            }
            self._runnable = build_router_runnable(
                self.catalog, self.core.decide, self._bridge.run, pipelines
            )
        return self._runnable

    @property
    def bridge(self) -> SyncBridge:
        """The sync bridge the ``*_sync`` methods (and sync LangChain calls) run through."""
        return self._bridge
