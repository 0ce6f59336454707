"""Sync twins over the one async core.

Every sync method of zero_llm runs the same coroutine as its async twin, on one private
event loop living in a daemon thread. That works from plain scripts and from inside a
running event loop (Jupyter), where ``asyncio.run`` would refuse. Context variables
(LangChain's tracing context among them) are carried across.
"""

from __future__ import annotations

import asyncio
import contextvars
import queue
import threading
from collections.abc import AsyncIterator, Coroutine, Iterator
from typing import Any, TypeVar

__all__ = ["SyncBridge", "shared_bridge"]

T = TypeVar("T")


class SyncBridge:
    """One background event loop that sync callers hand their coroutines to."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The bridge's event loop, started on first use."""
        if self._loop is None:
            with self._lock:
                if self._loop is None:
                    loop = asyncio.new_event_loop()
                    thread = threading.Thread(
                        target=loop.run_forever, name="zero-llm-sync", daemon=True
                    )
                    thread.start()
                    self._loop = loop
        return self._loop

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the bridge's loop and wait for its result."""
        loop = self.loop
        if _running_loop() is loop:
            coro.close()
            raise RuntimeError("a sync zero_llm call was made from zero_llm's own loop")
        context = contextvars.copy_context()
        future: asyncio.Future[T] | None = None
        done = threading.Event()
        result: list[Any] = []

        def start() -> None:
            nonlocal future
            future = loop.create_task(coro, context=context)
            future.add_done_callback(_deliver)

        def _deliver(finished: asyncio.Future[T]) -> None:
            result.append(finished)
            done.set()

        loop.call_soon_threadsafe(start)
        try:
            done.wait()
        except BaseException:  # KeyboardInterrupt in a notebook: stop the work too
            loop.call_soon_threadsafe(lambda: future.cancel() if future else None)
            raise
        return result[0].result()  # type: ignore[no-any-return]

    def iterate(self, agen: AsyncIterator[T]) -> Iterator[T]:
        """Drive an async iterator on the bridge's loop, yielding its items here.

        The iterator runs inside one task from start to end (deadlines such as
        ``asyncio.timeout`` held across its ``yield`` stay valid); it advances only when
        the caller asks for the next item, so nothing is read ahead.
        """
        loop = self.loop
        handoff: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        wanted = asyncio.Event()

        async def pump() -> None:
            try:
                await wanted.wait()
                async for item in agen:
                    wanted.clear()
                    handoff.put(("item", item))
                    await wanted.wait()
            except BaseException as exc:  # delivered to the consumer thread
                handoff.put(("error", exc))
                if isinstance(exc, asyncio.CancelledError):
                    raise
            else:
                handoff.put(("end", None))
            finally:
                aclose = getattr(agen, "aclose", None)
                if aclose is not None:
                    await aclose()

        context = contextvars.copy_context()
        task_box: list[asyncio.Task[None]] = []

        def start() -> None:
            task_box.append(loop.create_task(pump(), context=context))

        loop.call_soon_threadsafe(start)
        finished = False
        try:
            while True:
                loop.call_soon_threadsafe(wanted.set)
                kind, value = handoff.get()
                if kind == "item":
                    yield value
                elif kind == "end":
                    finished = True
                    return
                else:
                    finished = True
                    raise value
        finally:
            if not finished:
                done = threading.Event()

                def cancel() -> None:
                    task = task_box[0] if task_box else None
                    if task is None or task.done():
                        done.set()
                    else:
                        task.add_done_callback(lambda _: done.set())
                        task.cancel()

                loop.call_soon_threadsafe(cancel)
                done.wait(timeout=10)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


_shared: SyncBridge | None = None
_shared_lock = threading.Lock()


def shared_bridge() -> SyncBridge:
    """The process-wide bridge (created on first use, never at import)."""
    global _shared
    if _shared is None:
        with _shared_lock:
            if _shared is None:
                _shared = SyncBridge()
    return _shared
