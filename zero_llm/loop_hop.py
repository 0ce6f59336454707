"""Awaiting work that runs on another thread's event loop: one call, or a stream relayed.

In: the loop that owns some connections (the sync bridge's, or the loop a runtime was
entered on) and a coroutine or an async iterator. Out: its result, or its items, on the
caller's loop, without blocking it. A call's start and a cancel travel in order through
``call_soon_threadsafe``; a stream's items come in batches (one wake-up per batch); a
caller that stops early, times out or is cancelled has the work cancelled and closed on
its own loop before it goes on. Standard library only.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import contextvars
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Coroutine
from typing import Any, Generic, TypeVar

__all__ = ["aclose_iterator", "await_on", "discard_unstarted", "relay_from"]

T = TypeVar("T")


async def await_on(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, T]) -> T:
    """Await a coroutine on ``loop`` (another thread's) from any loop; directly when on it.

    What owns a connection pool (a database, an Ollama host's clients) runs its I/O
    there; a caller on another loop waits for it without blocking that loop. Cancelling
    the caller cancels the work.
    """
    here = asyncio.get_running_loop()
    if here is loop:
        return await coro
    outcome: asyncio.Future[T] = here.create_future()

    def deliver(task: asyncio.Task[T]) -> None:  # on the caller's loop
        if outcome.done():  # the caller was cancelled
            return
        if task.cancelled():
            outcome.cancel()
        elif (error := task.exception()) is not None:
            outcome.set_exception(error)
        else:
            outcome.set_result(task.result())

    work = _RemoteTask(loop, coro, here, when_done=deliver)
    try:
        return await outcome
    except asyncio.CancelledError:
        work.cancel()
        raise


async def relay_from(
    loop: asyncio.AbstractEventLoop, items: AsyncIterator[T]
) -> AsyncGenerator[T, None]:
    """Iterate an async iterator on ``loop``, yielding its items on the caller's loop.

    The items are pushed to the caller as they come (one wake-up per batch, not a
    round trip per item); when the caller stops early or is cancelled, the iterator
    is cancelled and closed on its own loop before this returns.
    """
    here = asyncio.get_running_loop()
    if here is loop:
        try:
            async for item in items:
                yield item
        finally:
            await aclose_iterator(items)
        return
    arrived = _Mailbox(here)

    async def pump() -> None:
        try:
            async for item in items:
                arrived.put((False, item))
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # the caller's now: raised there, not logged here
            arrived.put((True, exc))
        else:
            arrived.put((True, None))
        finally:
            await aclose_iterator(items)

    work = _RemoteTask(loop, pump(), here)
    finished = False
    try:
        while True:
            done, value = await arrived.get()
            if not done:
                yield value
                continue
            finished = True
            if value is not None:
                raise value
            return
    finally:
        if not finished:  # stopped early: cancel the iterator and wait until it is closed
            closed = asyncio.Event()
            work.cancel(then=lambda _: closed.set())
            await closed.wait()


class _RemoteTask(Generic[T]):
    """A task on another thread's loop, started and cancelled from the caller's loop.

    Its start and a cancel travel in order through ``call_soon_threadsafe``, so the
    coroutine always starts before a cancel reaches it (never left unawaited). Callbacks
    (``when_done``, a cancel's ``then``) get the finished task on the caller's loop.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        coro: Coroutine[Any, Any, T],
        caller: asyncio.AbstractEventLoop,
        *,
        when_done: Callable[[asyncio.Task[T]], None] | None = None,
    ) -> None:
        self._loop = loop
        self._caller = caller
        self._task: asyncio.Task[T] | None = None
        loop.call_soon_threadsafe(self._start, coro, contextvars.copy_context(), when_done)

    def _start(
        self,
        coro: Coroutine[Any, Any, T],
        context: contextvars.Context,
        when_done: Callable[[asyncio.Task[T]], None] | None,
    ) -> None:
        self._task = self._loop.create_task(coro, context=context)
        if when_done is not None:
            self._tell_when_done(when_done)

    def _tell_when_done(self, callback: Callable[[asyncio.Task[T]], None]) -> None:
        def tell(task: asyncio.Task[T]) -> None:
            with contextlib.suppress(RuntimeError):  # the caller's loop is closed
                self._caller.call_soon_threadsafe(callback, task)

        assert self._task is not None
        self._task.add_done_callback(tell)  # called soon if the task is done already

    def cancel(self, then: Callable[[asyncio.Task[T]], None] | None = None) -> None:
        """Cancel the task; ``then`` gets it, finished, on the caller's loop."""

        def cancel_there() -> None:
            assert self._task is not None  # started first: the loop runs callbacks in order
            self._task.cancel()
            if then is not None:
                self._tell_when_done(then)

        self._loop.call_soon_threadsafe(cancel_there)


class _Mailbox:
    """Messages from the owning loop to a caller's loop: one wake-up per batch, in order."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._messages: collections.deque[Any] = collections.deque()
        self._ready = asyncio.Event()
        self._wake_pending = False

    def put(self, message: Any) -> None:
        """Add a message (from any thread); wake the caller unless a wake-up is on its way."""
        self._messages.append(message)  # before the flag is read: a pending wake-up sees it
        if not self._wake_pending:
            self._wake_pending = True
            try:
                self._loop.call_soon_threadsafe(self._wake)
            except RuntimeError:  # the caller's loop is closed: nobody to deliver to
                raise asyncio.CancelledError from None

    def _wake(self) -> None:
        self._wake_pending = False
        self._ready.set()

    async def get(self) -> Any:
        """The next message, waiting on the caller's loop until one comes."""
        while not self._messages:
            self._ready.clear()
            await self._ready.wait()
        return self._messages.popleft()


async def aclose_iterator(items: AsyncIterator[Any]) -> None:
    """Close an async iterator that can be closed (an async generator's ``finally`` runs)."""
    aclose = getattr(items, "aclose", None)
    if aclose is not None:
        await aclose()


def discard_unstarted(work: Any) -> None:
    """Close a coroutine that will not be awaited now (no "never awaited" warning)."""
    if asyncio.iscoroutine(work):
        work.close()
