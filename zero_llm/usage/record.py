"""One usage record per model call, and summaries of many.

In: the ``CallTrace`` of a finished call. Out: a ``UsageRecord`` (a ``zl_usage`` row: the
route without the prompt's words, models, fallbacks, retries, counts, durations, status)
and ``UsageSummary`` aggregates. Pure: no I/O. A count Ollama did not report is None, never 0.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol, get_args

from zero_llm.emulated import is_emulated
from zero_llm.errors import InvalidRequestError
from zero_llm.timestamps import utc

if TYPE_CHECKING:  # annotations only: reading records needs neither the router nor answers
    from zero_llm.answer import CallTrace
    from zero_llm.routing.router import RouteDecision

__all__ = [
    "COLD_LOAD_SECONDS",
    "USAGE_EVENT",
    "GroupBy",
    "UsageRecord",
    "UsageSummary",
    "describe_route",
    "summarize",
]


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
    status: str = "ok"
    """``ok``, ``error``, or ``cancelled`` (a stream the caller stopped early)."""
    host: str | None = None
    """The Ollama host that answered."""
    queue_wait_s: float | None = None
    """Seconds waited for a model swap or a queue before the call could start."""
    cold_load_note: str | None = None
    """What a cold load did, e.g. "cold load of X (evicting Y)"."""
    fallback_note: str | None = None
    """"answered by X instead of Y because Z" when a fallback answered."""
    emulated: bool = False
    """The answer came from an emulator, not a model (left out of summaries by default)."""

    @classmethod
    def from_trace(
        cls, trace: CallTrace, thinking_tokens: int | None, *, log_content: bool = False
    ) -> UsageRecord:
        """The record of a finished call (the prompt's words only with ``log_content``)."""
        load = trace.load_duration_s
        if trace.cold_load:
            cold: bool | None = True
        else:
            cold = None if load is None else load > COLD_LOAD_SECONDS
        return cls(
            request_id=trace.request_id,
            created_at=datetime.fromtimestamp(trace.started_at, UTC),
            session_id=trace.session_id,
            task=trace.route.task if trace.route else None,
            route_reason=describe_route(trace.route, log_content=log_content),
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
            cold_load=cold,
            prompt_tokens=trace.prompt_tokens,
            prompt_tokens_counted=trace.prompt_tokens_counted,
            output_tokens=trace.output_tokens,
            thinking_tokens=thinking_tokens,
            tokens_per_second=trace.tokens_per_second,
            done_reason=trace.done_reason,
            truncation_suspected=trace.truncation_suspected,
            dropped_messages=trace.dropped_messages,
            status=trace.status,
            host=trace.host,
            queue_wait_s=trace.queue_wait_s,
            cold_load_note=trace.cold_load,
            fallback_note=trace.fallback_note,
            emulated=is_emulated(trace.host),
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
            "status",
            "host",
            "queue_wait_s",
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


def describe_route(decision: RouteDecision | None, *, log_content: bool = False) -> str | None:
    """The route as stored: task, method, confidence and signal kinds, never the prompt's words.

    The decision's free-text reason (which may quote the prompt) is added only when
    ``log_content`` is on.
    """
    if decision is None:
        return None
    parts = [f"task={decision.task}"]
    method = getattr(decision, "method", None) or ("explicit" if decision.explicit else None)
    if method is not None:
        parts.append(f"method={method}")
    confidence = getattr(decision, "confidence", None)
    if isinstance(confidence, int | float):
        parts.append(f"confidence={confidence:.2f}")
    kinds = sorted({str(getattr(s, "kind", s)) for s in getattr(decision, "signals", ()) or ()})
    if kinds:
        parts.append("signals=" + ",".join(kinds))
    if log_content:
        parts.append(f"reason={decision.reason}")
    return " ".join(parts)


def _percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile by the nearest-rank method (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def summarize(
    records: Iterable[UsageRecord], by: GroupBy | None = None, *, include_emulated: bool = True
) -> list[UsageSummary]:
    """Aggregate records, all together or grouped by model, task or session.

    ``include_emulated=False`` leaves out the answers that came from the emulator.
    """
    if by not in (None, *get_args(GroupBy)):
        raise InvalidRequestError(
            f"cannot group usage by {by!r}: by model, task or session (or None: all together)"
        )
    groups: dict[str | None, list[UsageRecord]] = {}
    for record in records:
        if not include_emulated and record.emulated:
            continue
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
                failures=sum(
                    1
                    for r in group
                    if r.status == "error" or (r.error_type and r.status != "cancelled")
                ),
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


class HasRecords(Protocol):
    """Something that reads usage records back (the ledger, or the SQLite reader)."""

    def records(self, *args: Any, **kwargs: Any) -> Awaitable[list[UsageRecord]]:
        """Records matching every filter given, oldest first."""


class SummarizesRecords:
    """``summary`` over a class's own ``records`` (the ledger's and the SQLite reader's)."""

    async def summary(
        self: HasRecords,
        by: GroupBy | None = None,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        model: str | None = None,
        task: str | None = None,
        session_id: str | None = None,
        include_emulated: bool = False,
    ) -> list[UsageSummary]:
        """Summaries of the matching records, grouped by model, task or session.

        Emulated answers are left out unless ``include_emulated``.
        """
        records = await self.records(
            model=model, task=task, session_id=session_id, since=since, until=until
        )
        return summarize(records, by, include_emulated=include_emulated)
