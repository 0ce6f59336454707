"""load_model / unload_model / loaded_models and the one fixed num_ctx per model."""

from __future__ import annotations

import asyncio
import gc
import sys
import warnings
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.cli.test_resident import wait_until
from tests.conftest import fast_settings
from zero_llm import (
    InvalidRequestError,
    ModelManager,
    ModelNotFoundError,
    PullProgress,
    SyncCallInEventLoopError,
    UnknownModelError,
)
from zero_llm.testing import OllamaEmulator


async def test_load_model_loads_with_the_model_num_ctx(
    manager: ModelManager, emulator: OllamaEmulator
) -> None:
    result = await manager.load_model("llama3.1:8b")
    assert result.model == "llama3.1:8b" and not result.pulled
    assert result.num_ctx == 131072 and result.load_seconds >= 0
    assert emulator.loaded_models() == {"llama3.1:8b": 131072}
    loaded = await manager.loaded_models()
    assert [m.name for m in loaded] == ["llama3.1:8b"] and loaded[0].context_length == 131072


@pytest.mark.parametrize(
    ("short", "full"),
    [("llama", "llama3.1:8b"), ("qwen", "qwen2.5-coder:32b"), ("deepseek", "deepseek-r1:32b")],
)
async def test_load_model_accepts_short_names(manager: ModelManager, short: str, full: str) -> None:
    assert (await manager.load_model(short)).model == full


async def test_qwen_gets_its_own_32k_window(
    manager: ModelManager, emulator: OllamaEmulator
) -> None:
    result = await manager.load_model("qwen")
    assert result.num_ctx == 32768
    await manager.query_model("qwen", "hello")
    bodies = [r.body for r in emulator.requests_to("/api/chat")]
    assert {b["options"]["num_ctx"] for b in bodies if b} == {32768}  # type: ignore[index]
    assert emulator.load_count == 1  # the query did not reload the model


def test_num_ctx_is_the_smallest_ceiling(emulator: OllamaEmulator) -> None:
    capped = ModelManager(fast_settings(emulator.base_url, context_window=65536))
    assert capped.load_model_sync("llama").num_ctx == 65536
    assert capped.load_model_sync("qwen").num_ctx == 32768
    memory = ModelManager(fast_settings(emulator.base_url, num_ctx_memory_cap=16384))
    assert memory.load_model_sync("deepseek").num_ctx == 16384
    per_model = ModelManager(
        fast_settings(emulator.base_url, models={"reasoning": {"context_window": 8192}})
    )
    assert per_model.load_model_sync("deepseek").num_ctx == 8192


async def test_load_model_pulls_a_missing_model_with_progress() -> None:
    with OllamaEmulator(pullable=["deepseek-r1:32b"]) as emu:
        manager = ModelManager(fast_settings(emu.base_url))
        steps: list[PullProgress] = []
        result = await manager.load_model("deepseek", progress=steps.append)
        assert result.pulled and result.model == "deepseek-r1:32b"
        assert steps[0].status == "pulling manifest" and steps[-1].status == "success"
        assert any(s.total and s.completed == s.total for s in steps)
        assert "deepseek-r1:32b" in emu.loaded_models()


async def test_unknown_names_fail_before_any_request(
    manager: ModelManager, emulator: OllamaEmulator
) -> None:
    with pytest.raises(UnknownModelError, match="not in the catalog nor on the Ollama") as info:
        await manager.load_model("mistral:7b")
    assert "models table" in str(info.value) and "zero-llm pull mistral:7b" in str(info.value)
    with pytest.raises(InvalidRequestError):
        await manager.load_model("")
    # the server's list was read (any model it has would do), nothing pulled or loaded
    assert {r.path for r in emulator.requests} == {"/api/tags"}


async def test_a_catalog_model_the_registry_lacks_says_so() -> None:
    with OllamaEmulator() as emu:
        manager = ModelManager(
            fast_settings(emu.base_url, models={"quick": {"name": "llama9:404b"}})
        )
        with pytest.raises(ModelNotFoundError, match="cannot pull 'llama9:404b'"):
            await manager.load_model("quick")


async def test_unload_model(manager: ModelManager, emulator: OllamaEmulator) -> None:
    await manager.load_model("llama")
    await manager.unload_model("llama")
    assert emulator.loaded_models() == {}
    assert await manager.loaded_models() == []


def test_sync_twins_inside_a_running_loop_name_the_async_method(manager: ModelManager) -> None:
    import asyncio

    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async def server_code() -> None:
        # Outside Jupyter a sync call here would block the loop (and the ticker) for its
        # whole duration: it is refused at once, naming the coroutine to await.
        running = asyncio.get_running_loop().create_task(ticker())
        await asyncio.sleep(0.05)
        with pytest.raises(SyncCallInEventLoopError, match=r"await ModelManager\.query_model"):
            manager.query_model_sync("llama", "from a running loop")
        with pytest.raises(SyncCallInEventLoopError, match=r"await ModelManager\.load_model"):
            manager.load_model_sync("llama")
        with pytest.raises(SyncCallInEventLoopError) as caught:  # a public name, never _agenerate
            manager.chat_model().invoke("from a running loop")
        assert "await ZeroChatModel.ainvoke(...)" in str(caught.value)
        assert "_agenerate" not in str(caught.value)
        assert ticks >= 1
        answer = await manager.query_model("llama", "awaited")
        assert answer == "[llama3.1:8b] You said: awaited"
        running.cancel()

    asyncio.run(server_code())


async def test_model_statuses(manager: ModelManager) -> None:
    await manager.load_model("qwen")
    statuses = {s.role: s for s in await manager.model_statuses()}
    assert statuses["code"].loaded and statuses["code"].num_ctx == 32768
    assert statuses["quick"].present and not statuses["quick"].loaded
    assert statuses["reasoning"].context_length == 131072


async def test_a_manager_is_an_async_context_manager(emulator: OllamaEmulator) -> None:
    async with ModelManager(fast_settings(emulator.base_url)) as manager:
        assert await manager.query_model("llama", "scoped") == "[llama3.1:8b] You said: scoped"
    assert not manager.backend.connected  # its connections were closed


def test_a_manager_is_a_context_manager(emulator: OllamaEmulator) -> None:
    with ModelManager(fast_settings(emulator.base_url)) as manager:
        assert manager.query_model_sync("llama", "scoped") == "[llama3.1:8b] You said: scoped"


needs_proc_net_tcp = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads Linux's /proc/net/tcp"
)
"""For the tests that count open connections (CI runs on Linux, so they run there)."""


def open_connections_to(port: int) -> set[int]:
    """Local ports of this machine's established TCP connections to ``port`` (Linux /proc)."""
    local_ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            local, remote, state = fields[1], fields[2], fields[3]
            if state == "01" and int(remote.rsplit(":", 1)[1], 16) == port:
                local_ports.add(int(local.rsplit(":", 1)[1], 16))
    return local_ports


@needs_proc_net_tcp
def test_one_connection_pool_serves_every_event_loop(emulator: OllamaEmulator) -> None:
    """Calls from two ``asyncio.run`` loops and a sync call reuse the same connections."""
    port = urlsplit(emulator.base_url).port
    assert port is not None
    manager = ModelManager(fast_settings(emulator.base_url))

    async def ask(text: str) -> str:
        return str(await manager.query_model("llama", text))

    assert asyncio.run(ask("one")) == "[llama3.1:8b] You said: one"
    after_first_loop = open_connections_to(port)
    assert after_first_loop  # the first loop ended; its connections did not
    assert asyncio.run(ask("two")) == "[llama3.1:8b] You said: two"
    assert manager.query_model_sync("llama", "three") == "[llama3.1:8b] You said: three"
    assert open_connections_to(port) == after_first_loop
    manager.close()
    assert not manager.backend.connected
    assert not open_connections_to(port)


@needs_proc_net_tcp
def test_a_manager_dropped_unclosed_has_its_connections_closed(emulator: OllamaEmulator) -> None:
    port = urlsplit(emulator.base_url).port
    assert port is not None
    manager = ModelManager(fast_settings(emulator.base_url))
    assert manager.query_model_sync("llama", "one") == "[llama3.1:8b] You said: one"
    assert open_connections_to(port)
    del manager
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]  # closed, not leaked
    wait_until(lambda: not open_connections_to(port), 5)  # closed on the bridge's loop
    assert not open_connections_to(port)
