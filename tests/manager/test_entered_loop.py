"""``async with`` a manager: its Ollama connections live on the loop that entered it.

Outside a block, one pool on the sync bridge's loop serves every loop (each async call hops
there and back). Inside, calls run in place on the caller's loop, with no hop, and the
block's end closes what it opened.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import pytest

from tests.conftest import fast_settings
from tests.manager.test_lifecycle import needs_proc_net_tcp, open_connections_to
from zero_llm import EnteredOnAnotherLoopError, ModelManager
from zero_llm.testing import OllamaEmulator


async def test_inside_async_with_the_connections_live_on_the_entering_loop(
    emulator: OllamaEmulator,
) -> None:
    manager = ModelManager(fast_settings(emulator.base_url))
    assert await manager.query_model("llama", "before") == "[llama3.1:8b] You said: before"
    bridge_loop = manager.runtime.bridge.loop
    assert manager.backend.clients_loop is bridge_loop  # outside a block: the bridge's pool
    here = asyncio.get_running_loop()
    async with manager:
        assert manager.backend.clients_loop is None  # the bridge's clients were closed
        assert await manager.query_model("llama", "inside") == "[llama3.1:8b] You said: inside"
        assert manager.backend.clients_loop is here
        streamed = [part async for part in await manager.query_model("llama", "s", stream=True)]
        assert "".join(streamed) == "[llama3.1:8b] You said: s"
        answer = await manager.chat_model(model="llama").ainvoke("chat")
        assert answer.content == "[llama3.1:8b] You said: chat"
        # A sync call from another thread hops to this loop, which keeps running.
        from_thread = await asyncio.to_thread(manager.query_model_sync, "llama", "thread")
        assert from_thread == "[llama3.1:8b] You said: thread"
        assert manager.backend.clients_loop is here
    assert not manager.backend.connected  # the block's end closed them
    assert await manager.query_model("llama", "after") == "[llama3.1:8b] You said: after"
    assert manager.backend.clients_loop is bridge_loop  # the bridge is home again
    await manager.aclose()
    assert len(emulator.requests_to("/api/chat")) == 6  # each call reached Ollama once


async def test_inside_async_with_the_history_runs_on_the_entering_loop(
    emulator: OllamaEmulator,
) -> None:
    manager = ModelManager(fast_settings(emulator.base_url))
    await manager.query_model("llama", "before", session_id="s")
    shared = manager.database  # the process's one per URL, on the bridge's loop
    assert shared.loop is manager.runtime.bridge.loop and shared.connected
    async with manager:
        inside = manager.database
        assert inside is not shared and inside.loop is asyncio.get_running_loop()
        await manager.query_model("llama", "inside", session_id="s")  # window, then append
        stored = [m.content for m in await manager.history.messages("s")]
        assert stored[-2:] == ["inside", "[llama3.1:8b] You said: inside"]
        assert inside.connected
        # A sync caller on another thread reads through this loop too.
        from_thread = await asyncio.to_thread(manager.history_sync.messages, "s")
        assert [m.content for m in from_thread] == stored
    assert not inside.connected  # the block's pool was closed at its end
    assert manager.database is shared
    assert len(await manager.history.messages("s")) == 4  # the shared pool reads it all
    await manager.flush_usage()
    assert len(await manager.usage.records(session_id="s")) == 2
    await manager.aclose()


@needs_proc_net_tcp
def test_each_block_opens_and_closes_its_own_connections(emulator: OllamaEmulator) -> None:
    port = urlsplit(emulator.base_url).port
    assert port is not None
    manager = ModelManager(fast_settings(emulator.base_url))
    seen: list[set[int]] = []

    async def block(text: str) -> str:
        async with manager:
            answer = str(await manager.query_model("llama", text))
            seen.append(open_connections_to(port))
        return answer

    assert asyncio.run(block("one")) == "[llama3.1:8b] You said: one"
    assert not open_connections_to(port)  # closed at the block's end, before its loop ended
    assert asyncio.run(block("two")) == "[llama3.1:8b] You said: two"
    assert not open_connections_to(port)
    assert all(seen) and seen[0].isdisjoint(seen[1])  # each loop had its own


async def test_nested_blocks_close_at_the_outermost_end(emulator: OllamaEmulator) -> None:
    manager = ModelManager(fast_settings(emulator.base_url))
    async with manager:
        await manager.query_model("llama", "outer")
        async with manager:
            await manager.query_model("llama", "inner")
        assert manager.backend.clients_loop is asyncio.get_running_loop()  # still open
        assert await manager.query_model("llama", "again") == "[llama3.1:8b] You said: again"
    assert not manager.backend.connected


async def test_a_second_loop_cannot_enter_while_the_first_holds_the_manager(
    emulator: OllamaEmulator,
) -> None:
    manager = ModelManager(fast_settings(emulator.base_url))

    def enter_from_another_loop() -> None:
        async def enter() -> None:
            async with manager:
                raise AssertionError("entered on a second loop")

        asyncio.run(enter())

    async with manager:
        await manager.query_model("llama", "first")
        with pytest.raises(EnteredOnAnotherLoopError, match="another event loop"):
            await asyncio.to_thread(enter_from_another_loop)
        assert await manager.query_model("llama", "still") == "[llama3.1:8b] You said: still"
        assert manager.backend.clients_loop is asyncio.get_running_loop()
    await asyncio.to_thread(_entered_elsewhere, manager)  # the first block ended: it can
    assert not manager.backend.connected


def _entered_elsewhere(manager: ModelManager) -> None:
    """Enter and use the manager on a loop of this thread's own (the first block ended)."""

    async def use() -> None:
        async with manager:
            assert await manager.query_model("llama", "later") == "[llama3.1:8b] You said: later"

    asyncio.run(use())
