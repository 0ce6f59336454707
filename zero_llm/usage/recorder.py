"""``UsageRecorder``: usage records written to the ledger in the background, never lost silently.

In: ``UsageRecord``s, from ``submit`` or as the LangChain custom event ``zero_llm.usage``
(so LangSmith and other handlers see the same record). Out: rows in ``zl_usage``, written in
batches on the shared sync loop, off the answer path. Guarantees:

- durable within ``flush_interval`` seconds of ``submit`` (one batch, one transaction);
- flushed at interpreter exit (``atexit``) for a program that never calls ``close()``;
- a record that could not be written is logged and counted in ``failed`` (never raised into
  a query, never dropped without a trace);
- in a forked child the parent's unwritten records are not written twice.

(A call with a session stores its record in the turn's own transaction instead; see
``HistoryStore.append(..., usage=...)``.)
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import concurrent.futures
import logging
import os
import threading
import weakref
from typing import Any
from uuid import UUID

from langchain_core.callbacks import AsyncCallbackHandler

from zero_llm.errors import ZeroLLMError
from zero_llm.home_loop import forget_in_forked_child
from zero_llm.sync_bridge import SyncBridge
from zero_llm.usage.ledger import UsageLedger
from zero_llm.usage.record import USAGE_EVENT, UsageRecord

__all__ = ["EXIT_FLUSH_TIMEOUT", "UsageRecorder"]

log = logging.getLogger(__name__)

EXIT_FLUSH_TIMEOUT = 10.0
"""Seconds the interpreter's exit waits for the last usage records to be written."""

LOST_KEPT = 1000
"""How many request ids of unwritten records a recorder remembers (for ``lost``)."""

_recorders: weakref.WeakSet[UsageRecorder] = weakref.WeakSet()
_exit_hook_lock = threading.Lock()
_exit_hook_registered = False


class UsageRecorder(AsyncCallbackHandler):
    """A LangChain callback handler that writes each usage record to the ledger.

    Args:
        ledger: where records go.
        bridge: the sync bridge whose loop runs the writes (default: the database's).
        flush_interval: the most seconds a submitted record waits before it is written.

    Attributes:
        written: records written so far.
        failed: records that could not be written (each one logged with its request id).
    """

    def __init__(
        self,
        ledger: UsageLedger,
        bridge: SyncBridge | None = None,
        *,
        flush_interval: float = 0.5,
    ) -> None:
        if flush_interval < 0:
            raise ValueError("flush_interval cannot be negative")
        self.ledger = ledger
        self.flush_interval = flush_interval
        self._bridge = bridge or ledger.database.bridge
        self._lock = threading.Lock()
        self._buffer: list[UsageRecord] = []
        self._armed = False
        self._writes: set[concurrent.futures.Future[None]] = set()
        self.written = 0
        self.failed = 0
        self._lost: collections.OrderedDict[str, None] = collections.OrderedDict()
        _recorders.add(self)
        forget_in_forked_child(self)
        _register_exit_hook()

    def lost(self, request_id: str) -> bool:
        """Whether the record of ``request_id`` could not be written (the newest 1,000 kept)."""
        with self._lock:
            return request_id in self._lost

    @property
    def failed_writes(self) -> int:
        """Records that could not be written (old name of ``failed``)."""
        return self.failed

    @property
    def pending(self) -> int:
        """Records submitted and not yet written (or failed)."""
        with self._lock:
            return len(self._buffer)

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
        """Queue a record; it is written within ``flush_interval`` seconds."""
        with self._lock:
            self._buffer.append(record)
            arm, self._armed = not self._armed, True
        if arm:
            loop = self._bridge.loop
            loop.call_soon_threadsafe(loop.call_later, self.flush_interval, self._write_batch)

    def _write_batch(self) -> None:
        """Start writing what is buffered (on the bridge loop)."""
        with self._lock:
            batch, self._buffer, self._armed = self._buffer, [], False
        if batch:
            future = asyncio.run_coroutine_threadsafe(self._write(batch), self._bridge.loop)
            with self._lock:
                self._writes.add(future)
            future.add_done_callback(self._forget)

    def _forget(self, future: concurrent.futures.Future[None]) -> None:
        with self._lock:
            self._writes.discard(future)

    async def _write(self, batch: list[UsageRecord]) -> None:
        try:
            await self.ledger.write(batch)
        except ZeroLLMError as exc:
            self.failed += len(batch)
            with self._lock:
                for record in batch:
                    self._lost[record.request_id] = None
                while len(self._lost) > LOST_KEPT:
                    self._lost.popitem(last=False)
            log.error(
                "could not record the usage of %d call(s) (%s): %s; %d unrecorded so far",
                len(batch),
                ", ".join(r.request_id for r in batch),
                exc,
                self.failed,
            )
        else:
            self.written += len(batch)

    def _start_all(self) -> list[concurrent.futures.Future[None]]:
        """Write the buffer now; return every write still running."""
        self._write_batch()
        with self._lock:
            return list(self._writes)

    async def flush(self) -> None:
        """Write every record submitted so far (or count it as failed) and wait for it."""
        pending = self._start_all()
        if pending:
            await asyncio.gather(*(asyncio.wrap_future(f) for f in pending))

    def flush_sync(self, timeout: float = 30.0) -> bool:
        """Sync twin of ``flush``; False if writes were still running after ``timeout``."""
        pending = self._start_all()
        _done, running = concurrent.futures.wait(pending, timeout=timeout)
        return not running

    def forget_after_fork(self) -> None:
        """In a forked child: the parent writes its own records; start empty."""
        self._lock = threading.Lock()
        self._buffer, self._armed, self._writes = [], False, set()


def _flush_at_exit() -> None:
    """Write every recorder's last records before the interpreter goes."""
    for recorder in list(_recorders):
        if recorder.pending or recorder._writes:
            try:
                if not recorder.flush_sync(timeout=EXIT_FLUSH_TIMEOUT):
                    log.error("usage records were still being written at exit")
            except Exception as exc:  # the exit goes on; say what was lost
                log.error("could not write usage records at exit: %s", exc)


def _register_exit_hook() -> None:
    global _exit_hook_registered
    with _exit_hook_lock:
        if not _exit_hook_registered:
            atexit.register(_flush_at_exit)
            _exit_hook_registered = True


def _after_fork_in_child() -> None:
    global _exit_hook_lock
    _exit_hook_lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)
