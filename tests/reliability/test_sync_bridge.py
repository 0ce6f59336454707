"""The sync bridge: fork-safe, refuses to block a running loop, carries context variables."""

from __future__ import annotations

import asyncio
import contextvars
import multiprocessing
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import fast_settings
from zero_llm import ModelManager, SyncCallInEventLoopError
from zero_llm.sync_bridge import SyncBridge
from zero_llm.testing import OllamaEmulator


def ask_in_child(manager: ModelManager, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    answer = manager.query_model_sync("llama", "from the child", session_id="forked")
    results.put(str(answer))


@pytest.mark.timeout(60)
def test_a_sync_call_in_a_forked_child_works(emulator: OllamaEmulator, tmp_path: Path) -> None:
    manager = ModelManager(fast_settings(emulator.base_url, home=tmp_path))
    assert manager.query_model_sync("llama", "parent", session_id="forked")  # bridge running
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    child = context.Process(target=ask_in_child, args=(manager, results))
    child.start()
    child.join(timeout=30)
    hung = child.is_alive()
    if hung:
        child.kill()
    assert not hung, "the sync call hung in the forked child"
    assert child.exitcode == 0
    assert results.get(timeout=5) == "[llama3.1:8b] You said: from the child"
    # The parent still works, and the child's turn is stored once with its usage.
    assert (
        manager.query_model_sync("llama", "parent again") == "[llama3.1:8b] You said: parent again"
    )
    texts = [m.content for m in manager.history_sync.messages("forked")]
    assert texts.count("from the child") == 1
    usage = asyncio.run(manager.usage.records(session_id="forked"))
    assert len(usage) == 2
    manager.close()


def test_iterate_refused_inside_a_running_loop_too() -> None:
    bridge = SyncBridge()

    async def numbers():  # type: ignore[no-untyped-def]
        yield 1

    async def inside() -> None:
        with pytest.raises(SyncCallInEventLoopError, match="numbers"):
            list(bridge.iterate(numbers()))

    asyncio.run(inside())
    assert list(bridge.iterate(numbers())) == [1]


def test_context_variables_cross_the_bridge() -> None:
    bridge = SyncBridge()
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")
    var.set("caller's")

    async def read() -> str:
        return var.get()

    assert bridge.run(read()) == "caller's"


async def test_call_runs_on_the_bridges_loop_in_the_callers_context() -> None:
    bridge = SyncBridge()
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")
    var.set("caller's")

    async def where() -> tuple[asyncio.AbstractEventLoop, str, str]:
        return asyncio.get_running_loop(), threading.current_thread().name, var.get()

    loop, thread, value = await bridge.call(where())
    assert loop is bridge.loop and loop is not asyncio.get_running_loop()
    assert thread == "zero-llm-sync" and value == "caller's"


async def test_relay_yields_the_items_and_raises_the_error_of_another_loop() -> None:
    bridge = SyncBridge()
    threads = set()

    async def numbers() -> AsyncIterator[int]:
        for number in range(5):
            threads.add(threading.current_thread().name)
            yield number
        raise ValueError("the fifth was the last")

    got = []
    with pytest.raises(ValueError, match="the fifth was the last"):
        async for number in bridge.relay(numbers()):
            got.append(number)
    assert got == [0, 1, 2, 3, 4] and threads == {"zero-llm-sync"}


async def test_relay_stopped_early_closes_the_iterator_on_its_loop_first() -> None:
    bridge = SyncBridge()
    closed_on: list[str] = []

    async def endless() -> AsyncIterator[int]:
        try:
            number = 0
            while True:
                yield number
                number += 1
                await asyncio.sleep(0)
        finally:
            closed_on.append(threading.current_thread().name)

    relay = bridge.relay(endless())
    assert [await anext(relay), await anext(relay)] == [0, 1]
    await relay.aclose()
    assert closed_on == ["zero-llm-sync"]  # closed before aclose returned


async def test_a_deadline_on_the_caller_cancels_the_relayed_iterator() -> None:
    bridge = SyncBridge()
    cancelled = threading.Event()

    async def silent() -> AsyncIterator[int]:
        try:
            await asyncio.sleep(30)
            yield 1
        except asyncio.CancelledError:
            cancelled.set()
            raise

    relay = bridge.relay(silent())
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            await anext(relay)
    assert cancelled.wait(5)


async def test_on_the_bridges_own_loop_nothing_hops() -> None:
    bridge = SyncBridge()

    async def numbers() -> AsyncIterator[str]:
        yield threading.current_thread().name

    async def inside() -> tuple[list[str], str]:
        names = [name async for name in bridge.relay(numbers())]
        return names, await bridge.call(asyncio.sleep(0, threading.current_thread().name))

    names, called_on = await bridge.call(inside())
    assert names == ["zero-llm-sync"] and called_on == "zero-llm-sync"


async def test_cancelling_a_call_cancels_its_work_on_the_bridge() -> None:
    bridge = SyncBridge()
    started, cancelled = threading.Event(), threading.Event()

    async def slow() -> None:
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    waiting = asyncio.create_task(bridge.call(slow()))
    assert await asyncio.to_thread(started.wait, 5)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert await asyncio.to_thread(cancelled.wait, 5)


async def test_a_calls_error_reaches_the_caller() -> None:
    bridge = SyncBridge()

    async def fails() -> None:
        raise KeyError("missing on the bridge")

    with pytest.raises(KeyError, match="missing on the bridge"):
        await bridge.call(fails())
