"""SingleFlight: one run of a piece of work per key, whatever thread or event loop asks."""

from __future__ import annotations

import asyncio
import threading

import pytest

from zero_llm.calls.profiles import SingleFlight


async def test_concurrent_callers_share_one_run() -> None:
    flight = SingleFlight()
    store: dict[str, int] = {}
    runs = 0

    async def work() -> int:
        nonlocal runs
        runs += 1
        await asyncio.sleep(0.05)
        store["k"] = 42
        return 42

    results = await asyncio.gather(
        *(flight.run("k", lambda: store.get("k"), work) for _ in range(8))
    )
    assert results == [42] * 8 and runs == 1


async def test_a_failed_run_leaves_the_next_caller_to_try() -> None:
    flight = SingleFlight()
    store: dict[str, int] = {}
    attempts = 0

    async def work() -> int:
        nonlocal attempts
        attempts += 1
        await asyncio.sleep(0.02)
        if attempts == 1:
            raise RuntimeError("first try fails")
        store["k"] = 7
        return 7

    first = asyncio.create_task(flight.run("k", lambda: store.get("k"), work))
    await asyncio.sleep(0)  # the first caller runs the work
    second = asyncio.create_task(flight.run("k", lambda: store.get("k"), work))
    with pytest.raises(RuntimeError, match="first try"):
        await first
    assert await second == 7 and attempts == 2


async def test_a_cancelled_waiter_does_not_break_the_run() -> None:
    flight = SingleFlight()
    store: dict[str, int] = {}

    async def work() -> int:
        await asyncio.sleep(0.05)
        store["k"] = 1
        return 1

    leader = asyncio.create_task(flight.run("k", lambda: store.get("k"), work))
    await asyncio.sleep(0)
    waiter = asyncio.create_task(flight.run("k", lambda: store.get("k"), work))
    await asyncio.sleep(0.01)
    waiter.cancel()
    assert await leader == 1
    assert waiter.cancelled()


def test_callers_on_two_event_loops_share_one_run() -> None:
    """A caller on another thread's loop waits for the running work instead of repeating it."""
    flight = SingleFlight()
    store: dict[str, str] = {}
    entered, release = threading.Event(), threading.Event()
    ran: list[str] = []

    def caller(name: str) -> None:
        async def work() -> str:
            ran.append(name)
            entered.set()
            await asyncio.to_thread(release.wait, 10)
            store["k"] = name
            return name

        results.append(asyncio.run(flight.run("k", lambda: store.get("k"), work)))

    results: list[str] = []
    first = threading.Thread(target=caller, args=("first",))
    first.start()
    assert entered.wait(10)
    second = threading.Thread(target=caller, args=("second",))
    second.start()
    second.join(0.3)
    assert second.is_alive()  # waiting on the first loop's run, not running its own
    release.set()
    first.join(10)
    second.join(10)
    assert ran == ["first"] and results == ["first", "first"]
