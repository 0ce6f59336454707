"""The virtual-time loop the residency simulation runs on: no real time, same answers."""

from __future__ import annotations

import asyncio
import time

import pytest

from zero_llm.errors import ZeroLLMError
from zero_llm.testing.virtual_time import VirtualTimeStuck, run_in_virtual_time


def test_sleeps_and_timers_take_simulated_time_only() -> None:
    async def main() -> tuple[float, list[tuple[str, float]]]:
        loop = asyncio.get_running_loop()
        fired: list[tuple[str, float]] = []
        loop.call_later(7.5, lambda: fired.append(("timer", loop.time())))

        async def sleeper(name: str, seconds: float) -> None:
            await asyncio.sleep(seconds)
            fired.append((name, loop.time()))

        await asyncio.gather(sleeper("long", 3600.0), sleeper("short", 2.0))
        return loop.time(), fired

    real = time.perf_counter()
    ended, fired = run_in_virtual_time(main(), start=100.0)
    assert time.perf_counter() - real < 1.0  # an hour of sleeping, in no real time
    assert ended == pytest.approx(3700.0)
    assert fired == [("short", 102.0), ("timer", 107.5), ("long", 3700.0)]


def test_a_timeout_fires_at_its_simulated_instant() -> None:
    async def main() -> float:
        loop = asyncio.get_running_loop()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.Event().wait(), timeout=30.0)
        return loop.time()

    assert run_in_virtual_time(main()) == pytest.approx(30.0)


def test_a_run_that_nothing_can_wake_is_refused_not_hung() -> None:
    async def main() -> None:
        await asyncio.Event().wait()  # no timer, no other task: waits forever

    with pytest.raises(VirtualTimeStuck, match="no timer is pending") as caught:
        run_in_virtual_time(main())
    assert isinstance(caught.value, ZeroLLMError)


def test_a_run_that_keeps_the_loop_busy_at_one_instant_is_refused() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()

        def again() -> None:
            loop.call_later(0.0, again)  # a wake-up re-armed with no delay: time never moves

        again()
        await asyncio.sleep(1.0)

    with pytest.raises(VirtualTimeStuck, match="without the clock moving"):
        run_in_virtual_time(main())
