"""The memory plan and the residency scheduler inside the engine, against a 24 GiB emulator."""

from __future__ import annotations

import asyncio
import logging

import pytest

from tests.conftest import fast_settings
from zero_llm import ModelManager
from zero_llm.testing import OllamaEmulator

GiB = 2**30


@pytest.fixture
def gpu24() -> OllamaEmulator:
    with OllamaEmulator(gpu_memory=24 * GiB) as emulator:
        yield emulator


def planned_manager(emulator: OllamaEmulator, **memory: object) -> ModelManager:
    return ModelManager(fast_settings(emulator.base_url, memory={"gpu_memory": "24GiB", **memory}))


def sent_num_ctx(emulator: OllamaEmulator) -> dict[str, set[int]]:
    seen: dict[str, set[int]] = {}
    for request in emulator.requests_to("/api/chat"):
        body = request.body or {}
        if body.get("messages"):
            seen.setdefault(body["model"], set()).add(body["options"]["num_ctx"])
    return seen


async def test_the_planned_windows_are_sent_and_nothing_is_offloaded(
    gpu24: OllamaEmulator,
) -> None:
    async with planned_manager(gpu24) as mm:
        plan = await mm.memory_plan()
        for name in ("llama3.1:8b", "qwen2.5-coder:32b", "deepseek-r1:32b"):
            await mm.query_model(name, "hello")
    assert plan.budget == 24 * GiB
    windows = {m.name: m.num_ctx for m in plan.models}
    # A 32B model at 128K would need ~50 GiB: each gets the largest window that fits alone.
    assert windows["deepseek-r1:32b"] < 131072 and windows["qwen2.5-coder:32b"] < 131072
    assert all(m.total_bytes <= 24 * GiB for m in plan.models)
    assert sent_num_ctx(gpu24) == {name: {n} for name, n in windows.items()}
    assert gpu24.stats.partial_offloads == 0


async def test_a_switch_says_cold_load_and_what_it_evicts(gpu24: OllamaEmulator) -> None:
    async with planned_manager(gpu24) as mm:
        first = await mm.query_model("qwen", "write a function")
        again = await mm.query_model("qwen", "and another")
        switch = await mm.query_model("r1", "analyse NVDA")
        await mm.flush_usage()
        (*_, record) = await mm.usage.records()
    assert first.trace.cold_load == "cold load of qwen2.5-coder:32b"
    assert again.trace.cold_load is None  # resident: no load
    assert switch.trace.cold_load == "cold load of deepseek-r1:32b (evicting qwen2.5-coder:32b)"
    assert record.cold_load_note == switch.trace.cold_load and record.cold_load is True
    assert record.queue_wait_s is not None


async def _interleaved(emulator: OllamaEmulator, manager: ModelManager) -> tuple[int, list]:
    """Warm qwen, then 12 requests alternating qwen / r1, one every 5 ms; loads they cost."""
    await manager.query_model("qwen", "warm up")
    before = emulator.stats.loads

    async def one(i: int):  # type: ignore[no-untyped-def]
        await asyncio.sleep(0.005 * i)
        return await manager.query_model("qwen" if i % 2 else "r1", f"request {i}")

    answers = await asyncio.gather(*(one(i) for i in range(12)))
    return emulator.stats.loads - before, answers


async def test_interleaved_requests_are_batched_by_model() -> None:
    # Each answer takes longer than the gap between arrivals, so the two models' requests
    # overlap. Ollama alone serves them in arrival order: a swap almost every request.
    with OllamaEmulator(gpu_memory=24 * GiB, time_scale=0.01) as emulator:
        settings = fast_settings(emulator.base_url, num_ctx_memory_cap=20480)
        async with ModelManager(settings) as unscheduled:
            alone, _ = await _interleaved(emulator, unscheduled)
    with OllamaEmulator(gpu_memory=24 * GiB, time_scale=0.01) as emulator:
        memory = {"gpu_memory": "24GiB", "max_swap_wait": 10}
        async with ModelManager(fast_settings(emulator.base_url, memory=memory)) as mm:
            loads, answers = await _interleaved(emulator, mm)
    assert all(a.text for a in answers)
    assert alone >= 6, alone  # the baseline thrashes
    assert loads * 2 <= alone, (loads, alone)  # batched: the resident model's requests go first
    waited = [a.trace.queue_wait_s or 0 for a in answers if a.model == "deepseek-r1:32b"]
    assert max(waited) > 0


async def test_without_a_budget_nothing_is_planned_and_offload_is_warned(
    gpu24: OllamaEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="zero_llm.residency")
    async with ModelManager(fast_settings(gpu24.base_url)) as mm:  # no memory.gpu_memory
        answer = await mm.query_model("r1", "analyse NVDA")
        await mm.query_model("r1", "and AMD")
    assert answer.trace.num_ctx == 131072 and answer.trace.cold_load is None
    offload = [r.message for r in caplog.records if "partly on the CPU" in r.message]
    assert len(offload) == 1 and "deepseek-r1:32b" in offload[0]
    assert "gpu_memory" in offload[0]  # says what to set


async def test_a_failed_ps_read_after_a_load_never_fails_the_answer(gpu24: OllamaEmulator) -> None:
    async with planned_manager(gpu24) as mm:
        await mm.memory_plan()
        gpu24.faults.fail_next(1, status=500, paths=("/api/ps",))
        answer = await mm.query_model("qwen", "write a function")  # a cold load: /api/ps read
    assert answer.text and answer.trace.cold_load == "cold load of qwen2.5-coder:32b"
    assert answer.trace.attempts == 1 and answer.trace.retries == []  # not asked twice
    assert gpu24.faults.pending == 0  # /api/ps was asked, and failed


async def test_sync_and_async_callers_share_one_scheduler(gpu24: OllamaEmulator) -> None:
    # The sync twin runs on the bridge's loop in another thread; the async call on this
    # loop: both are admitted by the same host scheduler, each woken on its own loop.
    async with planned_manager(gpu24) as mm:
        await mm.query_model("qwen", "warm up")
        answers = await asyncio.gather(
            *(asyncio.to_thread(mm.query_model_sync, "r1", f"sync {i}") for i in range(3)),
            *(mm.query_model("qwen", f"async {i}") for i in range(3)),
        )
        state = mm.residency_state()
    assert all(str(a) for a in answers)
    assert [s.in_flight for s in state.values()] == [{}]  # every slot given back
    assert gpu24.stats.loads <= 3  # qwen, then one load of r1 for its batch (or back)


async def test_load_model_goes_through_the_scheduler(gpu24: OllamaEmulator) -> None:
    async with planned_manager(gpu24) as mm:
        await mm.query_model("qwen", "write a function")
        loaded = await mm.load_model("r1")
        state = mm.residency_state()[gpu24.base_url]
        answer = await mm.query_model("r1", "analyse NVDA")
    assert loaded.model == "deepseek-r1:32b"
    assert "deepseek-r1:32b" in state.resident and "qwen2.5-coder:32b" not in state.resident
    assert answer.trace.cold_load is None  # load_model loaded it: the scheduler knows
