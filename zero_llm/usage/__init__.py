"""Usage and latency: one record per model call, a ledger in SQL, and summaries.

In: the ``CallTrace`` of each finished call (streamed or not, sync or async, through
``query_model`` or the runnable, failed, cancelled or not). Out: a ``UsageRecord``
(``record``) dispatched as the LangChain custom event ``zero_llm.usage`` to every callback
handler of the call and written to ``zl_usage`` (``ledger``): with the turn's own
transaction when the call has a session, else by ``UsageRecorder`` (``recorder``) within a
bounded delay, flushed at exit, failures counted. ``summarize`` aggregates records.
``UsageLedger`` and ``insert_usage`` (SQLAlchemy) and ``UsageRecorder`` (a LangChain
callback handler) are imported on first use, so reading records loads neither.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zero_llm.lazy_names import import_lazily
from zero_llm.usage.record import (
    COLD_LOAD_SECONDS,
    USAGE_EVENT,
    UsageRecord,
    UsageSummary,
    describe_route,
    summarize,
)

if TYPE_CHECKING:
    from zero_llm.usage.ledger import UsageLedger, insert_usage
    from zero_llm.usage.recorder import UsageRecorder

__all__ = [
    "COLD_LOAD_SECONDS",
    "USAGE_EVENT",
    "UsageLedger",
    "UsageRecord",
    "UsageRecorder",
    "UsageSummary",
    "describe_route",
    "insert_usage",
    "summarize",
]


_LAZY = {
    "UsageLedger": "zero_llm.usage.ledger",
    "insert_usage": "zero_llm.usage.ledger",
    "UsageRecorder": "zero_llm.usage.recorder",
}
"""Names imported on first use: the ledger brings SQLAlchemy, the recorder LangChain."""


def __getattr__(name: str) -> Any:
    """The ledger and the recorder, imported on first use."""
    return import_lazily(name, __name__, _LAZY, globals())
