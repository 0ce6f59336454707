"""Objects that own connections run their I/O on one home loop; what they need, light.

In: an object with a home (something with ``call`` or ``relay``: a runtime's
``RuntimeHome``, the sync bridge, or a ``Database``, whose ``call`` runs in place when it is
``blocking``). Out: methods that run there, awaited or relayed from whatever loop calls them
(``on_home_loop``, ``relayed_from_home_loop``), and a fork registry
(``forget_in_forked_child``): in a forked child every registered owner drops the parent's
resources without touching them.

A runtime's home is the sync bridge's loop, which outlives every caller's loop, so one pool
serves ``asyncio.run`` after ``asyncio.run``, Jupyter and the sync API, at the cost of a hop
to that loop and back per call. Inside ``async with`` (a manager or a runtime) the home is
the loop that entered it instead: its calls run in place, with no hop, and its connections
are closed at the block's end. Sync calls still work from other threads (they hop to the
entered loop); a sync call that would block the entered loop itself (a Jupyter cell inside
the block) is refused instead of deadlocking.

Standard library only, so the record commands (which never start the sync bridge) import
it without anyio.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
import threading
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from zero_llm.errors import EnteredOnAnotherLoopError, SyncCallInEventLoopError
from zero_llm.loop_hop import await_on, discard_unstarted, relay_from

__all__ = [
    "CallsHome",
    "ForgetsAfterFork",
    "HasLoop",
    "Home",
    "RelaysHome",
    "RuntimeHome",
    "blocked_thread",
    "forget_in_forked_child",
    "on_home_loop",
    "relayed_from_home_loop",
]

T = TypeVar("T")
P = ParamSpec("P")


class CallsHome(Protocol):
    """Where an owner's I/O runs: a coroutine awaited there from any loop."""

    async def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await ``coro`` on the home loop from any loop."""


class RelaysHome(Protocol):
    """Where an owner's streams run: an iterator relayed from there to any loop."""

    def relay(self, items: AsyncIterator[T]) -> AsyncGenerator[T, None]:
        """Iterate ``items`` on the home loop, yielding them on the caller's."""


blocked_thread: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "zero_llm_blocked_thread", default=None
)
"""The thread a sync call is blocking while its work runs on the bridge (set by the bridge)."""


class HasLoop(Protocol):
    """Something that owns a long-lived event loop (the sync bridge)."""

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The loop, started on first use."""


class Home(CallsHome, RelaysHome, HasLoop, Protocol):
    """A loop that owns connections, and the way to run work there from any loop."""


class RuntimeHome:
    """The loop that owns a runtime's connections: the bridge's, or the loop that entered it.

    Its Ollama clients and, inside a block, its history's database pool live there.

    ``enter`` (from ``async with``) makes the running loop the home until the matching
    ``leave``; entries nest on one loop, and a second loop cannot enter while the first
    holds it. ``call`` and ``relay`` run work at the home from any loop.
    """

    def __init__(self, bridge: HasLoop) -> None:
        self.bridge = bridge
        self._entered: asyncio.AbstractEventLoop | None = None
        self._entered_thread: int | None = None
        self._depth = 0
        forget_in_forked_child(self)

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The home loop now: the entered loop, else the bridge's."""
        return self._entered or self.bridge.loop

    @property
    def entered(self) -> bool:
        """Whether a loop has entered (``async with``) and owns the connections now."""
        return self._entered is not None

    def enter(self) -> bool:
        """Make the running loop the home; True on the first (not a nested) entry."""
        loop = asyncio.get_running_loop()
        if self._entered is not None and self._entered is not loop:
            raise EnteredOnAnotherLoopError(
                "this manager is already entered (async with) on another event loop, which "
                "owns its connections: leave the block there first, or build a second "
                "manager for this loop"
            )
        self._depth += 1
        if self._entered is loop:
            return False
        self._entered, self._entered_thread = loop, threading.get_ident()
        return True

    @property
    def depth(self) -> int:
        """How many ``enter`` calls are not yet left (nested ``async with`` blocks)."""
        return self._depth

    def leave(self) -> None:
        """End one entry; when the last one ends, the bridge's loop is home again."""
        self._depth = max(0, self._depth - 1)
        if not self._depth:
            self._entered = self._entered_thread = None

    def forget_after_fork(self) -> None:
        """In a forked child the entered loop's thread is gone: the bridge is home again."""
        self._entered = self._entered_thread = None
        self._depth = 0

    def _refuse_deadlock(self, work: Any) -> None:
        waiting = blocked_thread.get()
        if waiting is not None and waiting == self._entered_thread:
            discard_unstarted(work)
            raise SyncCallInEventLoopError(
                "a sync zero_llm call was made inside `async with` on the loop it waits on "
                "(the block's connections live on that loop, which the call blocks): "
                "await the async method instead"
            )

    async def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await ``coro`` at the home from any loop (in place when already there)."""
        self._refuse_deadlock(coro)
        return await await_on(self.loop, coro)

    def relay(self, items: AsyncIterator[T]) -> AsyncGenerator[T, None]:
        """Iterate ``items`` at the home, yielding them on the caller's loop."""
        self._refuse_deadlock(items)
        return relay_from(self.loop, items)


def on_home_loop(
    home_of: Callable[[Any], CallsHome],
) -> Callable[
    [Callable[Concatenate[Any, P], Coroutine[Any, Any, T]]],
    Callable[Concatenate[Any, P], Coroutine[Any, Any, T]],
]:
    """Make an async method run at its object's home (``home_of(self).call``).

    For objects that own connections (a database, an Ollama host's clients): one loop
    owns every connection, so none is used from, or outlives, another loop (Jupyter's,
    pytest's, a sync caller's), and pools are kept across calls.
    """

    def decorate(
        method: Callable[Concatenate[Any, P], Coroutine[Any, Any, T]],
    ) -> Callable[Concatenate[Any, P], Coroutine[Any, Any, T]]:
        @functools.wraps(method)
        async def run_there(self: Any, *args: P.args, **kwargs: P.kwargs) -> T:
            return await home_of(self).call(method(self, *args, **kwargs))

        return run_there

    return decorate


def relayed_from_home_loop(
    home_of: Callable[[Any], RelaysHome],
) -> Callable[
    [Callable[Concatenate[Any, P], AsyncIterator[T]]],
    Callable[Concatenate[Any, P], AsyncGenerator[T, None]],
]:
    """Make an async-generator method run at its object's home, relayed to the caller."""

    def decorate(
        method: Callable[Concatenate[Any, P], AsyncIterator[T]],
    ) -> Callable[Concatenate[Any, P], AsyncGenerator[T, None]]:
        @functools.wraps(method)
        def relayed(self: Any, *args: P.args, **kwargs: P.kwargs) -> AsyncGenerator[T, None]:
            return home_of(self).relay(method(self, *args, **kwargs))

        return relayed

    return decorate


class ForgetsAfterFork(Protocol):
    """An owner of resources bound to a process (a loop's thread, connections, pools)."""

    def forget_after_fork(self) -> None:
        """In a forked child: drop the parent's resources without touching them."""


_owners: weakref.WeakSet[Any] = weakref.WeakSet()


def forget_in_forked_child(owner: ForgetsAfterFork) -> None:
    """Have ``owner.forget_after_fork()`` called in a forked child (its resources: parent's)."""
    _owners.add(owner)


def _after_fork_in_child() -> None:
    for owner in list(_owners):
        owner.forget_after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)
