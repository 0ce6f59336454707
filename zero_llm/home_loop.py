"""Objects that own connections run their I/O on one home loop; what they need, light.

In: an object with a home (something with ``call`` or ``relay``: the sync bridge, or a
``Database``, whose ``call`` runs in place when it is ``blocking``). Out: methods that run there,
awaited or relayed from whatever loop calls them (``on_home_loop``,
``relayed_from_home_loop``), and a fork registry (``forget_in_forked_child``): in a forked
child every registered owner drops the parent's resources without touching them.

Standard library only, so the record commands (which never start the sync bridge) import
it without anyio.
"""

from __future__ import annotations

import functools
import os
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

__all__ = [
    "CallsHome",
    "ForgetsAfterFork",
    "RelaysHome",
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
