"""``ModelManager``: the facade ZERO's agents call.

In: settings (arguments > ``ZERO_LLM_*`` env > ``zero_llm.toml`` > defaults) and requests.
Out: routing decisions, model lifecycle (pull, load, unload, what is loaded) and answers,
whole or streamed, async first with sync twins over the same core (``*_sync``), plus an
LCEL runnable. Building a manager does no I/O: clients are built on first use.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal, overload
from uuid import UUID

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import ensure_config, get_async_callback_manager_for_config

from zero_llm.answer import Answer, AnswerStream, CallTrace, collect_answer
from zero_llm.backend import LoadedModel, OllamaBackend, ProgressCallback, PullProgress
from zero_llm.catalog import ModelSpec
from zero_llm.database import Database
from zero_llm.engine import QueryEngine
from zero_llm.errors import InvalidRequestError, ZeroLLMError
from zero_llm.history import HistoryStore, NewMessage, SyncHistoryStore
from zero_llm.requests import QueryRequest, check_text, make_request
from zero_llm.router import RouteDecision, route
from zero_llm.settings import ZeroLLMSettings, load_settings
from zero_llm.sync_bridge import SyncBridge, shared_bridge
from zero_llm.usage import USAGE_EVENT, UsageLedger, UsageRecord, UsageRecorder

if TYPE_CHECKING:
    from langchain_core.runnables import Runnable

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
        self.backend = OllamaBackend(self.settings.ollama_base_url, self.settings.timeouts)
        self.engine = QueryEngine(self.settings, self.catalog, self.backend)
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
        return route(self.catalog, task=task, text=text)

    def spec(self, model_name: str) -> ModelSpec:
        """The catalog entry for a model name, short alias or role (UnknownModelError if none)."""
        check_text(model_name, "model_name")
        return self.catalog.resolve(model_name)

    # ------------------------------------------------------------ lifecycle
    async def load_model(
        self, model_name: str, progress: ProgressCallback | None = None
    ) -> LoadResult:
        """Make a model ready: pull it if missing (reporting progress), then load it."""
        spec = self.spec(model_name)
        pulled = False
        if spec.name not in await self.backend.present_models():
            await self.engine.pull(spec, progress=progress)
            pulled = True
        num_ctx = await self.engine.num_ctx_for(spec, progress=progress)
        seconds = await self.backend.load(spec.name, num_ctx, spec.keep_alive)
        log.info("loaded %s (num_ctx=%d, pulled=%s) in %.2fs", spec.name, num_ctx, pulled, seconds)
        return LoadResult(spec.name, pulled, seconds, num_ctx)

    async def pull_model(self, model_name: str, progress: ProgressCallback | None = None) -> str:
        """Pull a catalog model (even if present: that refreshes it); return its full name."""
        spec = self.spec(model_name)
        await self.engine.pull(spec, progress=progress)
        return spec.name

    async def model_statuses(self) -> list[ModelStatus]:
        """The catalog with each model's state: present, loaded, num_ctx, context length."""
        present = await self.backend.present_models()
        loaded = {m.name: m for m in await self.backend.loaded()}
        statuses = []
        for role, spec in self.catalog.models.items():
            length = None
            num_ctx = self.engine.known_num_ctx(spec)
            if spec.name in present:
                facts = await self.backend.show(spec.name)
                length = facts.context_length
                num_ctx = self.engine.window_for(spec, length)
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
        await self.backend.unload(self.spec(model_name).name)

    async def loaded_models(self) -> list[LoadedModel]:
        """The models in Ollama's memory now."""
        return await self.backend.loaded()

    # -------------------------------------------------------------- queries
    def _prepare(self, request: QueryRequest) -> tuple[ModelSpec, CallTrace]:
        decision: RouteDecision | None = None
        if request.model is not None:
            spec = self.catalog.resolve(request.model)
        else:
            decision = route(self.catalog, task=request.task, text=request.text)
            spec = self.catalog.models[decision.role]
        trace = CallTrace(requested_model=spec.name, route=decision, session_id=request.session_id)
        return spec, trace

    def chunks(
        self, request: QueryRequest, config: RunnableConfig | None = None, *, stream: bool
    ) -> tuple[AsyncIterator[Any], CallTrace]:
        """The answer's chunks for a checked request, with the trace they fill in.

        With a ``session_id`` the session's newest turns that fit the window come first,
        and the turn (question and complete answer) is stored after the last chunk.
        """
        spec, trace = self._prepare(request)
        trace.streamed = stream
        return self._served(spec, request, config, trace, stream), trace

    async def _served(
        self,
        spec: ModelSpec,
        request: QueryRequest,
        config: RunnableConfig | None,
        trace: CallTrace,
        stream: bool,
    ) -> AsyncIterator[Any]:
        parts: list[str] = []
        thinking: list[str] = []
        try:
            messages = await self._with_memory(spec, request, trace)
            chunks = self.engine.run(
                spec, messages, config, trace, stream=stream, format=request.format
            )
            async for chunk in chunks:
                if chunk.content:
                    parts.append(chunk.text)
                if reasoning := chunk.additional_kwargs.get("reasoning_content"):
                    thinking.append(reasoning)
                yield chunk
        except BaseException as exc:
            trace.thinking = "".join(thinking)
            trace.finish(exc)
            await self._record_usage(trace, config, request)
            raise
        trace.thinking = "".join(thinking)
        trace.finish()
        record = None
        if request.session_id is not None:  # the turn and its usage record: one transaction
            record = self._usage_record(trace) if self.settings.usage_ledger else None
            if not await self._remember(request, "".join(parts), trace, usage=record):
                record = None  # not stored: the recorder writes it below
        await self._record_usage(trace, config, request, stored=record)

    async def _with_memory(
        self, spec: ModelSpec, request: QueryRequest, trace: CallTrace
    ) -> list[BaseMessage]:
        """The prompt, with the stored turns of the session that can fit in front.

        No I/O to Ollama here (that belongs inside the retry loop): the model's profile
        is used when known already, else the configured window bounds what is loaded.
        The window then trims exactly, with the answering model's own counter.
        """
        if request.session_id is None:
            return request.messages()
        profile = self.engine.profile_of(spec.name)
        if profile is not None:
            room = profile.budget.prompt_tokens - profile.counter.count_prompt(request.messages())
        else:
            room = self.engine.window_for(spec, None)
        if room <= 0:
            return request.messages()
        # Stored counts come from whichever model answered then: load a quarter more.
        stored = await self.history.window(request.session_id, room + room // 4)
        history = (*(m.to_message() for m in stored), *request.history)
        return replace(request, history=history).messages()

    async def _remember(
        self,
        request: QueryRequest,
        answer: str,
        trace: CallTrace,
        usage: UsageRecord | None = None,
    ) -> bool:
        """Store the turn (with its usage record) in one transaction; False if it failed.

        A failure is logged and noted in the trace, not raised.
        """
        assert request.session_id is not None
        profile = self.engine.profile_of(trace.model or trace.requested_model)
        question, reply = HumanMessage(request.text), AIMessage(answer)
        counts = profile.counter.count_messages([question, reply]) if profile else [0, 0]
        task = trace.route.task if trace.route else None
        try:
            await self.history.append(
                request.session_id,
                [
                    NewMessage(question, counts[0], task=task),
                    NewMessage(
                        reply,
                        counts[1],
                        model=trace.model,
                        task=task,
                        reasoning=trace.thinking or None,
                    ),
                ],
                usage=usage,
            )
        except ZeroLLMError as exc:
            trace.history_error = str(exc)
            log.error("could not store the turn of session %r: %s", request.session_id, exc)
            return False
        return True

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
        chunks, trace = self.chunks(request, stream=stream)
        if stream:
            return AnswerStream(chunks, trace)
        return await collect_answer(chunks, trace)

    def _usage_record(self, trace: CallTrace) -> UsageRecord:
        """The usage record of a finished call."""
        profile = self.engine.profile_of(trace.model or trace.requested_model)
        thinking = None
        if trace.thinking:
            thinking = profile.counter.count_text(trace.thinking) if profile else None
        elif self.catalog.find_role(trace.requested_model) is not None:
            thinking = 0 if self.spec(trace.requested_model).think else None
        return UsageRecord.from_trace(trace, thinking, log_content=self.settings.log_content)

    async def _record_usage(
        self,
        trace: CallTrace,
        config: RunnableConfig | None,
        request: QueryRequest,
        stored: UsageRecord | None = None,
    ) -> None:
        """Log the call in one line and send its usage record to the callback handlers.

        ``stored``: the record already written with the turn (not written again).
        """
        record = stored or self._usage_record(trace)
        if log.isEnabledFor(logging.INFO):
            text = ""
            if self.settings.log_content:
                text = f" question={request.text!r} thinking={trace.thinking!r}"
            log.info("zero_llm call %s%s", record.log_fields(), text)
        write = self.settings.usage_ledger and stored is None
        if not (config and config.get("callbacks")):  # only our own handler listens
            if write:
                self.usage_recorder.submit(record)
            return
        handlers = get_async_callback_manager_for_config(ensure_config(config))
        if write and self.usage_recorder not in handlers.handlers:
            handlers.add_handler(self.usage_recorder, inherit=False)
        run_id = handlers.parent_run_id or UUID(trace.request_id)
        try:
            await handlers.on_custom_event(USAGE_EVENT, record, run_id=run_id)
        except Exception as exc:  # a callback must never fail the answer
            log.error("a callback failed on the usage event of %s: %s", trace.request_id, exc)

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
            self._usage = UsageLedger(self.database)
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
        await self.engine.pool.aclose()
        await self.backend.aclose()
        if self._database is not None:
            await self._database.close()

    def close(self) -> None:
        """Sync twin of ``aclose`` (for the connections the sync methods opened)."""
        self._bridge.run(self.aclose())

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

            self._runnable = build_router_runnable(self)
        return self._runnable
