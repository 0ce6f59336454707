"""Hostile inputs get a clear error or a bounded, correct result; long runs leak nothing."""

from __future__ import annotations

import gc
import os
import time
import tracemalloc
from pathlib import Path

import pytest

from tests.conftest import fast_settings
from zero_llm import ContextOverflowError, InvalidRequestError, ModelManager
from zero_llm.testing import OllamaEmulator


@pytest.fixture
async def manager(emulator: OllamaEmulator, tmp_path: Path):  # type: ignore[no-untyped-def]
    mm = ModelManager(fast_settings(emulator.base_url, home=tmp_path))
    yield mm
    await mm.aclose()


async def test_nul_bytes_are_answered_and_stored_faithfully(manager: ModelManager) -> None:
    answer = await manager.query_model("llama", "before\x00after", session_id="nul")
    assert answer == "[llama3.1:8b] You said: before\x00after"
    stored = await manager.history.messages("nul")
    assert [m.content for m in stored] == ["before\x00after", str(answer)]


async def test_lone_surrogates_are_refused_before_anything_is_sent(
    manager: ModelManager, emulator: OllamaEmulator
) -> None:
    for text in ("half \ud800 of a pair", "\udfff"):
        with pytest.raises(InvalidRequestError, match="surrogate"):
            await manager.query_model("llama", text, session_id="s")
        with pytest.raises(InvalidRequestError, match="surrogate"):
            await manager.query_model("llama", "fine", context=text)
    assert emulator.requests_to("/api/chat") == []
    assert await manager.history.session("s") is None


@pytest.mark.timeout(60)
async def test_a_10_mb_text_is_refused_quickly_without_a_request(
    manager: ModelManager, emulator: OllamaEmulator
) -> None:
    await manager.load_model("llama")
    sent = len(emulator.requests_to("/api/chat"))
    huge = "word " * (2 * 1024 * 1024)  # 10 MiB
    started = time.perf_counter()
    with pytest.raises(ContextOverflowError, match="need"):
        await manager.query_model("llama", huge, session_id="huge")
    assert time.perf_counter() - started < 30
    assert len(emulator.requests_to("/api/chat")) == sent
    assert await manager.history.messages("huge") == []


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.timeout(300)
async def test_2000_sequential_calls_leave_fds_and_memory_flat(
    manager: ModelManager, emulator: OllamaEmulator
) -> None:
    # 200 distinct questions, asked over and over: the warm-up fills the counting and
    # rendering caches (bounded, keyed by text) with all of them, so what grows after it
    # is what calls leave behind, not a cache filling up with new texts.
    async def calls(n: int) -> None:
        for i in range(n):
            answer = await manager.query_model("llama", f"call {i % 200}")
            assert answer.endswith(f"call {i % 200}")

    await calls(200)  # warm: pools, caches and the usage ledger are open
    await manager.flush_usage()
    gc.collect()
    fds_before = open_fds()
    # The emulator serves from this process and keeps a (bounded) log of the requests it
    # received: emptied before each snapshot, so that only what the client keeps counts.
    emulator.state.requests.clear()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    await calls(1_800)
    await manager.flush_usage()
    gc.collect()
    emulator.state.requests.clear()
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    diffs = after.compare_to(before, "lineno")
    grown = sum(s.size_diff for s in diffs)
    fds_after = open_fds()
    assert fds_after <= fds_before + 3, (fds_before, fds_after)
    assert grown < 1024 * 1024, f"{grown / 1024:.0f} KiB kept after 1,800 calls: {diffs[:5]}"
    assert manager.usage_recorder.failed == 0
    assert len(await manager.usage.records()) == 2_000
