"""The sync bridge: fork-safe, refuses to block a running loop, carries context variables."""

from __future__ import annotations

import asyncio
import contextvars
import multiprocessing
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
