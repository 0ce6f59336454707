"""An asyncio event loop whose clock is simulated: sleeps and timers take no real time.

In: a coroutine. Out: its result, computed on a loop whose ``time()`` only moves when
nothing is ready to run — then straight to the next timer. ``asyncio.sleep``,
``loop.call_later`` and ``asyncio.wait_for`` all run on that clock, so a workload of
minutes runs in milliseconds and, having no real time in it, gives the same result every
run. Built on public asyncio only: a ``SelectorEventLoop`` given a selector that, instead of
blocking until the next timer, moves the simulated clock to it.

Code that reads time must read the loop's (``asyncio.get_running_loop().time``), e.g.
``ResidencyScheduler(plan, clock=loop.time)``. A run in which every task waits on something
that no timer will ever bring is stuck, and so is one that keeps the loop busy without the
clock ever moving (more than ``max_steps_per_instant`` steps at one instant): both raise
``VirtualTimeStuck`` rather than hang.
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Coroutine
from typing import Any, TypeVar

from zero_llm.errors import ZeroLLMError

__all__ = ["VirtualTimeLoop", "VirtualTimeStuck", "run_in_virtual_time"]

T = TypeVar("T")


class VirtualTimeStuck(ZeroLLMError):
    """Every task waits and no timer is pending: in virtual time nothing would ever happen."""


class _Clock:
    """The simulated time, shared by the loop and its selector."""

    def __init__(self, start: float) -> None:
        self.now = start


class _AdvancingSelector(selectors.DefaultSelector):
    """A selector that jumps the simulated clock to the next timer instead of waiting."""

    def __init__(self, clock: _Clock, max_steps_per_instant: int) -> None:
        super().__init__()
        self._clock = clock
        self._limit = max_steps_per_instant
        self._steps = 0

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        """Real events that are ready now; else advance the clock by ``timeout``."""
        ready = super().select(0)
        if ready or timeout == 0:
            self._steps += 1
            if self._steps > self._limit:
                self._steps = 0  # a fresh allowance for the loop's clean-up (cancelling tasks)
                raise VirtualTimeStuck(
                    f"virtual time: {self._limit} loop steps at {self._clock.now:.6f} without "
                    "the clock moving (a livelock: something re-arms itself with no delay)"
                )
            return ready
        self._steps = 0
        if timeout is None:
            raise VirtualTimeStuck(
                "virtual time: every task is waiting and no timer is pending (a deadlock "
                "in the simulated code: nothing would ever wake it)"
            )
        self._clock.now += timeout
        return []


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """A ``SelectorEventLoop`` on simulated time (see the module docstring)."""

    def __init__(self, start: float = 0.0, max_steps_per_instant: int = 100_000) -> None:
        self._virtual = _Clock(start)
        super().__init__(_AdvancingSelector(self._virtual, max_steps_per_instant))

    def time(self) -> float:
        """The simulated time in seconds."""
        return self._virtual.now


def run_in_virtual_time(main: Coroutine[Any, Any, T], start: float = 0.0) -> T:
    """Run ``main`` to completion on a fresh ``VirtualTimeLoop`` (as ``asyncio.run`` does)."""
    with asyncio.Runner(loop_factory=lambda: VirtualTimeLoop(start)) as runner:
        return runner.run(main)
