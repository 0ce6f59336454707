"""Sync twins over the one async core, on anyio's blocking portal.

In: a coroutine (``run``) or an async iterator (``iterate``) from a sync method. Out: its
result or items in the calling thread. Every sync method of zero_llm runs the same coroutine
as its async twin, as a task of one ``anyio.from_thread.BlockingPortal`` whose event loop
lives in a daemon thread (anyio's own, well-kept thread-to-loop hand-off, chosen over a
hand-written one; we start the portal's loop in our own daemon thread, not with
``start_blocking_portal``'s context manager, because the bridge lives for the whole process
and is never exited). The caller's context variables (LangChain's tracing context among them)
are carried into the task; a ``KeyboardInterrupt`` in the caller cancels the task.

- **Inside a running event loop** a sync call would block that loop for the whole call, so it
  raises ``SyncCallInEventLoopError`` naming the coroutine to await instead, except in an
  IPython/Jupyter kernel, whose loop runs cells that call sync methods on purpose: there the
  call works as before (the cell waits; the bridge's loop does the work).
- **Fork-safe**: a forked child (multiprocessing's fork, gunicorn-style workers) has no
  bridge thread; ``os.register_at_fork`` resets every bridge in the child, which then starts
  its own loop on first use instead of hanging on the parent's.
- **The pools that outlive callers' loops live here**: the database's engine
  (``zero_llm.database``) and, for a runtime not entered with ``async with``, each Ollama
  host's clients (``zero_llm.ollama.client``). An asyncio pool cannot cross loops, and
  callers' loops (``asyncio.run``, pytest's, Jupyter's) end without disposing their pools;
  this long-lived loop owns them, so async callers hop (``call`` awaits one coroutine run
  here, ``relay`` pushes a stream's items to the caller as they come: ``zero_llm.loop_hop``)
  and ``zero_llm.home_loop`` makes methods do either. Sync calls already run here: no hop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import os
import queue
import sys
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Coroutine, Hashable, Iterator
from typing import Any, TypeVar, cast

import anyio
from anyio.from_thread import BlockingPortal

from zero_llm.errors import SyncCallInEventLoopError
from zero_llm.home_loop import blocked_thread, forget_in_forked_child
from zero_llm.loop_hop import aclose_iterator, await_on, discard_unstarted, relay_from

__all__ = ["SyncBridge", "in_jupyter_kernel", "shared_bridge"]

T = TypeVar("T")


class SyncBridge:
    """One background event loop, behind an anyio portal, that sync callers hand work to."""

    def __init__(self) -> None:
        self._portal: BlockingPortal | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self._kept: dict[Hashable, Any] = {}
        self._kept_lock = threading.Lock()
        forget_in_forked_child(self)

    def keep(self, key: Hashable, make: Callable[[], T]) -> T:
        """The resource kept under ``key`` for this bridge's loop (made once, on first ask).

        What lives on the loop (a database's connection pool) is owned by the bridge, so
        two runtimes on one bridge share it and it never outlives its loop's owner.
        """
        with self._kept_lock:
            found = self._kept.get(key)
            if found is None:
                found = self._kept[key] = make()
            return cast(T, found)

    def _start(self) -> tuple[BlockingPortal, asyncio.AbstractEventLoop]:
        if self._portal is None or self._loop is None:
            with self._lock:
                if self._portal is None or self._loop is None:
                    ready: concurrent.futures.Future[
                        tuple[BlockingPortal, asyncio.AbstractEventLoop]
                    ] = concurrent.futures.Future()

                    async def serve() -> None:
                        async with BlockingPortal() as portal:
                            ready.set_result((portal, asyncio.get_running_loop()))
                            await portal.sleep_until_stopped()

                    thread = threading.Thread(
                        target=anyio.run, args=(serve,), name="zero-llm-sync", daemon=True
                    )
                    thread.start()
                    self._portal, self._loop = ready.result()
        return self._portal, self._loop

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The bridge's event loop, started on first use."""
        return self._start()[1]

    def _check_caller(self, work: Any) -> None:
        """Refuse a sync call that would block a running event loop (Jupyter's excepted)."""
        running = _running_loop()
        if running is None:
            return
        if running is self._loop:
            discard_unstarted(work)
            raise SyncCallInEventLoopError(
                "a sync zero_llm call was made from zero_llm's own loop; await "
                f"{_name_of(work)} instead"
            )
        if not in_jupyter_kernel():
            discard_unstarted(work)
            raise SyncCallInEventLoopError(
                "a sync zero_llm method was called inside a running event loop, which it "
                f"would block for the whole call: await {_name_of(work)} instead"
            )

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the bridge's loop and wait for its result."""
        self._check_caller(coro)
        portal, _ = self._start()
        future = portal.start_task_soon(_in_context, _blocking_context(), coro)
        try:
            return future.result()
        except BaseException:  # KeyboardInterrupt in a notebook: stop the work too
            future.cancel()
            raise

    def iterate(self, agen: AsyncIterator[T]) -> Iterator[T]:
        """Drive an async iterator on the bridge's loop, yielding its items here.

        The iterator runs inside one task from start to end (deadlines such as
        ``asyncio.timeout`` held across its ``yield`` stay valid); it advances only when
        the caller asks for the next item, so nothing is read ahead.
        """
        self._check_caller(agen)
        portal, loop = self._start()
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
                await aclose_iterator(agen)

        task = portal.start_task_soon(_in_context, _blocking_context(), pump())
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
                task.cancel()
                concurrent.futures.wait([task], timeout=10)

    async def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await a coroutine on the bridge's loop from any loop (directly when already on it).

        What owns a connection pool (a database, an Ollama host's clients) runs its I/O
        here; a caller on another loop waits for it without blocking that loop. Cancelling
        the caller cancels the work.
        """
        return await await_on(self.loop, coro)

    def relay(self, items: AsyncIterator[T]) -> AsyncGenerator[T, None]:
        """Iterate an async iterator on the bridge's loop, yielding its items on the caller's."""
        return relay_from(self.loop, items)

    def forget_after_fork(self) -> None:
        """In a forked child the loop thread is gone: start afresh on next use."""
        self._portal = None
        self._loop = None
        self._lock = threading.Lock()
        self._kept_lock = threading.Lock()  # the kept resources reset themselves after a fork


def _blocking_context() -> contextvars.Context:
    """The caller's context, marked with the thread that blocks until the work is done."""
    context = contextvars.copy_context()
    context.run(blocked_thread.set, threading.get_ident())
    return context


async def _in_context(context: contextvars.Context, coro: Coroutine[Any, Any, T]) -> T:
    """Await a coroutine as a task in the caller's context (cancelled with this one)."""
    return await asyncio.get_running_loop().create_task(coro, context=context)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


_PUBLIC_TWINS = {"_agenerate": "ainvoke(...) (or astream(...))", "_astream": "astream(...)"}
"""LangChain's protected async methods -> the public ones a caller should await."""


def _name_of(work: Any) -> str:
    """The public async method a sync call stood for, e.g. ``ModelManager.query_model(...)``.

    A protected one (LangChain's ``_agenerate`` behind ``invoke``) is named by its public
    twin: ``ZeroChatModel.ainvoke(...)``.
    """
    name = getattr(work, "__qualname__", None) or type(work).__qualname__
    owner, _, method = name.rpartition(".")
    if method.startswith("_"):
        twin = _PUBLIC_TWINS.get(method, "ainvoke(...) (or astream(...))")
        return f"{owner}.{twin}" if owner else twin
    return f"{name}(...)"


def in_jupyter_kernel() -> bool:
    """Whether this process is an IPython kernel (Jupyter), whose loop runs sync cells."""
    if "ipykernel" not in sys.modules:
        return False
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    shell = get_ipython() if get_ipython is not None else None
    return shell is not None and getattr(shell, "kernel", None) is not None


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


def _after_fork_in_child() -> None:
    global _shared_lock
    _shared_lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)
