"""Usage and latency: one record per model call, a ledger in SQL, and summaries.

In: the ``CallTrace`` of each finished call (streamed or not, sync or async, through
``query_model`` or the runnable, failed or not). Out: a ``UsageRecord`` dispatched as a
LangChain custom event (``zero_llm.usage``) to every callback handler of the call —
LangSmith and others keep working alongside — and written to the ``zl_usage`` table by
``UsageRecorder``, a callback handler that writes in the background on the shared sync
loop, so the answer path never waits for the database and a storage error never fails a
query (it is logged). ``UsageLedger`` reads records back by model, task, session and time
range; ``summarize`` aggregates them. A count Ollama did not report is None, never 0.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

from langchain_core.callbacks import AsyncCallbackHandler
from sqlalchemy import insert, select

from zero_llm.answer import CallTrace
from zero_llm.database import Database, on_database_loop, utc
from zero_llm.errors import InvalidRequestError, ZeroLLMError
from zero_llm.schema import zl_usage
from zero_llm.sync_bridge import SyncBridge, shared_bridge

__all__ = [
    "USAGE_EVENT",
    "UsageLedger",
    "UsageRecord",
    "UsageRecorder",
    "UsageSummary",
    "summarize",
]

log = logging.getLogger(__name__)

USAGE_EVENT = "zero_llm.usage"
"""The name of the LangChain custom event that carries each ``UsageRecord``."""
COLD_LOAD_SECONDS = 0.5
"""A load longer than this means the model was not in memory."""
GroupBy = Literal["model", "task", "session"]


@dataclass(frozen=True)
class UsageRecord:
    """Everything measured about one model call."""

    request_id: str
    created_at: datetime
    session_id: str | None
    task: str | None
    route_reason: str | None
    requested_model: str
    model: str | None
    fallbacks: list[dict[str, str]]
    num_ctx: int | None
    attempts: int
    retries: list[dict[str, Any]]
    error_type: str | None
    error: str | None
    streamed: bool
    latency_s: float | None
    first_token_s: float | None
    load_duration_s: float | None
    prompt_eval_duration_s: float | None
    eval_duration_s: float | None
    cold_load: bool | None
    prompt_tokens: int | None
    prompt_tokens_counted: int | None
    output_tokens: int | None
    thinking_tokens: int | None
    tokens_per_second: float | None
    done_reason: str | None
    truncation_suspected: bool
    dropped_messages: int

    @classmethod
    def from_trace(cls, trace: CallTrace, thinking_tokens: int | None) -> UsageRecord:
        """The record of a finished call."""
        load = trace.load_duration_s
        return cls(
            request_id=trace.request_id,
            created_at=datetime.fromtimestamp(trace.started_at, UTC),
            session_id=trace.session_id,
            task=trace.route.task if trace.route else None,
            route_reason=trace.route.reason if trace.route else None,
            requested_model=trace.requested_model,
            model=trace.model,
            fallbacks=[asdict(f) for f in trace.fallbacks],
            num_ctx=trace.num_ctx,
            attempts=trace.attempts,
            retries=[asdict(r) for r in trace.retries],
            error_type=trace.error_type,
            error=(trace.error or "")[:2000] or None,
            streamed=trace.streamed,
            latency_s=trace.latency_s,
            first_token_s=trace.first_token_s,
            load_duration_s=load,
            prompt_eval_duration_s=trace.prompt_eval_duration_s,
            eval_duration_s=trace.eval_duration_s,
            cold_load=None if load is None else load > COLD_LOAD_SECONDS,
            prompt_tokens=trace.prompt_tokens,
            prompt_tokens_counted=trace.prompt_tokens_counted,
            output_tokens=trace.output_tokens,
            thinking_tokens=thinking_tokens,
            tokens_per_second=trace.tokens_per_second,
            done_reason=trace.done_reason,
            truncation_suspected=trace.truncation_suspected,
            dropped_messages=trace.dropped_messages,
        )

    def to_row(self) -> dict[str, Any]:
        """The record as a ``zl_usage`` row."""
        row = asdict(self)
        row["fallbacks"] = json.dumps(self.fallbacks)
        row["retries"] = json.dumps(self.retries)
        return row

    @classmethod
    def from_row(cls, row: Any) -> UsageRecord:
        """A record read back from ``zl_usage``."""
        data = {f.name: getattr(row, f.name) for f in fields(cls)}
        data["fallbacks"] = json.loads(data["fallbacks"] or "[]")
        data["retries"] = json.loads(data["retries"] or "[]")
        data["created_at"] = utc(data["created_at"])
        return cls(**data)

    def log_fields(self) -> str:
        """The record as ``key=value`` pairs for one log line (no prompt or answer text)."""
        keep = (
            "request_id",
            "session_id",
            "task",
            "requested_model",
            "model",
            "num_ctx",
            "attempts",
            "error_type",
            "streamed",
            "latency_s",
            "first_token_s",
            "load_duration_s",
            "cold_load",
            "prompt_tokens",
            "prompt_tokens_counted",
            "output_tokens",
            "thinking_tokens",
            "tokens_per_second",
            "done_reason",
            "truncation_suspected",
            "dropped_messages",
        )
        parts = []
        for key in keep:
            value = getattr(self, key)
            if isinstance(value, float):
                value = f"{value:.4g}"
            parts.append(f"{key}={'unknown' if value is None else value}")
        parts.append(f"fallbacks={len(self.fallbacks)} retries={len(self.retries)}")
        return " ".join(parts)


@dataclass(frozen=True)
class UsageSummary:
    """Aggregates over a group of records (``key`` None: all of them)."""

    key: str | None
    calls: int
    failures: int
    retries: int
    latency_p50_s: float | None
    latency_p95_s: float | None
    first_token_p50_s: float | None
    prompt_tokens: int
    output_tokens: int
    tokens_per_second: float | None
    cold_loads: int


def _percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile by the nearest-rank method (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def summarize(records: Iterable[UsageRecord], by: GroupBy | None = None) -> list[UsageSummary]:
    """Aggregate records, all together or grouped by model, task or session."""
    groups: dict[str | None, list[UsageRecord]] = {}
    for record in records:
        if by is None:
            key = None
        elif by == "model":
            key = record.model or record.requested_model
        elif by == "task":
            key = record.task
        else:
            key = record.session_id
        groups.setdefault(key, []).append(record)
    out = []
    for key, group in sorted(groups.items(), key=lambda item: str(item[0])):
        latencies = [r.latency_s for r in group if r.latency_s is not None]
        firsts = [r.first_token_s for r in group if r.first_token_s is not None]
        generated = [r for r in group if r.output_tokens is not None and r.eval_duration_s]
        eval_seconds = sum(r.eval_duration_s or 0.0 for r in generated)
        out.append(
            UsageSummary(
                key=key,
                calls=len(group),
                failures=sum(1 for r in group if r.error_type is not None),
                retries=sum(len(r.retries) for r in group),
                latency_p50_s=_percentile(latencies, 50),
                latency_p95_s=_percentile(latencies, 95),
                first_token_p50_s=_percentile(firsts, 50),
                prompt_tokens=sum(r.prompt_tokens or 0 for r in group),
                output_tokens=sum(r.output_tokens or 0 for r in group),
                tokens_per_second=(
                    sum(r.output_tokens or 0 for r in generated) / eval_seconds
                    if eval_seconds
                    else None
                ),
                cold_loads=sum(1 for r in group if r.cold_load),
            )
        )
    return out


class UsageLedger:
    """The ``zl_usage`` table: write records, read them back, summarize them."""

    def __init__(self, database: Database | str) -> None:
        self.database = database if isinstance(database, Database) else Database.for_url(database)

    @on_database_loop
    async def write(self, records: Sequence[UsageRecord]) -> None:
        """Insert records in one transaction."""
        if records:
            async with self.database.transaction() as connection:
                await connection.execute(insert(zl_usage), [r.to_row() for r in records])

    @on_database_loop
    async def records(
        self,
        *,
        model: str | None = None,
        task: str | None = None,
        session_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100_000,
    ) -> list[UsageRecord]:
        """Records matching every filter given, oldest first."""
        if limit < 1:
            raise InvalidRequestError("limit must be at least 1")
        u = zl_usage
        query = select(u)
        if model is not None:
            query = query.where(u.c.model == model)
        if task is not None:
            query = query.where(u.c.task == task)
        if session_id is not None:
            query = query.where(u.c.session_id == session_id)
        if since is not None:
            query = query.where(u.c.created_at >= since)
        if until is not None:
            query = query.where(u.c.created_at < until)
        query = query.order_by(u.c.created_at, u.c.id).limit(limit)
        async with self.database.transaction(read_only=True) as connection:
            rows = (await connection.execute(query)).all()
        return [UsageRecord.from_row(row) for row in rows]

    async def summary(
        self,
        by: GroupBy | None = None,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        model: str | None = None,
        task: str | None = None,
        session_id: str | None = None,
    ) -> list[UsageSummary]:
        """Summaries of the matching records, grouped by model, task or session."""
        records = await self.records(
            model=model, task=task, session_id=session_id, since=since, until=until
        )
        return summarize(records, by)


class UsageRecorder(AsyncCallbackHandler):
    """A LangChain callback handler that writes each usage event to the ledger.

    Writes run on the shared sync loop, off the answer path; ``flush`` waits for them.
    A failed write is logged and counted in ``failed_writes``, never raised.
    """

    def __init__(self, ledger: UsageLedger, bridge: SyncBridge | None = None) -> None:
        self.ledger = ledger
        self._bridge = bridge or shared_bridge()
        self._pending: set[concurrent.futures.Future[None]] = set()
        self.failed_writes = 0

    async def on_custom_event(
        self,
        name: str,
        data: Any,
        *,
        run_id: UUID,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Take a ``zero_llm.usage`` event's record for writing."""
        if name == USAGE_EVENT and isinstance(data, UsageRecord):
            self.submit(data)

    def submit(self, record: UsageRecord) -> None:
        """Queue a record for writing in the background."""
        future = asyncio.run_coroutine_threadsafe(self._write(record), self._bridge.loop)
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)

    async def _write(self, record: UsageRecord) -> None:
        try:
            await self.ledger.write([record])
        except ZeroLLMError as exc:
            self.failed_writes += 1
            log.error("could not record usage of request %s: %s", record.request_id, exc)

    async def flush(self) -> None:
        """Wait until every queued record is written (or has failed)."""
        pending = list(self._pending)
        if pending:
            await asyncio.gather(*(asyncio.wrap_future(f) for f in pending))

    def flush_sync(self, timeout: float = 30.0) -> None:
        """Sync twin of ``flush``."""
        concurrent.futures.wait(list(self._pending), timeout=timeout)
