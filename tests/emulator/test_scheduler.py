"""Ollama's scheduler in the emulator: slots, the pending queue, eviction, offload, durations."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import ollama
import pytest

from zero_llm.testing import EmulatedModel, OllamaEmulator
from zero_llm.testing.scheduler import FIXED_OVERHEAD, SchedulerSettings, model_memory, parse_size

GiB = 2**30
TEN_TOKENS = " ".join(["word"] * 10)  # 10 words: 10 tokens under the regex tokenizer


def tiny(name: str, load_seconds: float = 0.1, size: int = 2 * GiB) -> EmulatedModel:
    """A small model whose load and generation take measurable, short times at time_scale 1."""
    return EmulatedModel(
        name=name,
        architecture="llama",
        family="llama",
        context_length=8192,
        parameter_size="1B",
        parameter_count=1_000_000_000,
        size=size,
        capabilities=("completion", "tools"),
        load_seconds=load_seconds,
        tokens_per_second=100.0,  # 10 tokens: 0.1 s
        block_count=16,
        head_count=32,
        head_count_kv=8,
    )


TINIES = [tiny("a:1b"), tiny("b:1b"), tiny("c:1b")]


async def ask(client: ollama.AsyncClient, model: str, **kw: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    response = await client.chat(
        model=model, messages=[{"role": "user", "content": "hi"}], options={"num_ctx": 2048}, **kw
    )
    return response, time.perf_counter() - started


def test_memory_model_follows_the_architecture() -> None:
    with OllamaEmulator() as emu:
        client = ollama.Client(host=emu.base_url)
        info = client.show("qwen2.5-coder:32b").modelinfo or {}
        assert info["qwen2.block_count"] == 64 and info["qwen2.attention.head_count_kv"] == 8
        assert info["qwen2.embedding_length"] // info["qwen2.attention.head_count"] == 128
        client.chat(model="qwen2.5-coder:32b", messages=[], options={"num_ctx": 32768})
        (ps,) = client.ps().models
        weights = 19851336256
        assert ps.size == weights + 32768 * 256 * 1024 + FIXED_OVERHEAD  # 8 GiB of KV at f16
        assert ps.size_vram == ps.size and ps.context_length == 32768
    llama = next(m for m in emu.state.models.values() if m.name == "llama3.1:8b")
    assert llama.kv_bytes_per_token == 128 * 1024
    f16 = model_memory(llama, 8192, 1, "f16") - llama.size - FIXED_OVERHEAD
    assert model_memory(llama, 8192, 2, "f16") - llama.size - FIXED_OVERHEAD == 2 * f16
    assert model_memory(llama, 8192, 1, "q8_0") - llama.size - FIXED_OVERHEAD == f16 * 17 // 32
    assert model_memory(llama, 8192, 1, "q4_0") - llama.size - FIXED_OVERHEAD == f16 * 9 // 32


def test_settings_are_checked_and_sizes_parsed() -> None:
    assert parse_size("24GiB") == 24 * GiB and parse_size("24 GB") == 24 * 10**9
    assert parse_size("512MiB") == 512 * 2**20 and parse_size("1000") == 1000
    with pytest.raises(ValueError, match="size"):
        parse_size("lots")
    with pytest.raises(ValueError, match="num_parallel"):
        SchedulerSettings(num_parallel=0)
    with pytest.raises(ValueError, match="kv_cache_type"):
        SchedulerSettings(kv_cache_type="q2")  # type: ignore[arg-type]


@pytest.mark.parametrize("parallel", [1, 2])
async def test_requests_queue_behind_num_parallel(parallel: int) -> None:
    with OllamaEmulator(models=TINIES, time_scale=1.0, num_parallel=parallel) as emu:
        emu.set_reply(TEN_TOKENS)
        client = ollama.AsyncClient(host=emu.base_url)
        await client.chat(model="a:1b", messages=[], options={"num_ctx": 2048})
        started = time.perf_counter()
        results = await asyncio.gather(*(ask(client, "a:1b") for _ in range(2)))
        wall = time.perf_counter() - started
        stats = emu.stats
    if parallel == 1:
        assert stats.queue_waits == 1 and wall >= 0.2  # one after the other
        waited = max(r.load_duration or 0 for r, _ in results)
        assert waited >= 0.09e9  # the second waited for the first's slot (Ollama counts it as load)
    else:
        assert stats.queue_waits == 0 and wall < 0.19  # side by side
    assert stats.loads == 1


async def test_a_load_waits_for_a_busy_model_instead_of_evicting_it() -> None:
    budget = model_memory(TINIES[0], 2048, 1, "f16") + GiB  # one tiny fits, not two
    with OllamaEmulator(models=TINIES, time_scale=1.0, gpu_memory=budget) as emu:
        emu.set_reply(" ".join(["word"] * 30))  # a: 0.3 s of generation
        client = ollama.AsyncClient(host=emu.base_url)
        await client.chat(model="a:1b", messages=[], options={"num_ctx": 2048})
        busy = asyncio.ensure_future(ask(client, "a:1b"))
        await asyncio.sleep(0.05)
        other = asyncio.ensure_future(ask(client, "b:1b"))
        await asyncio.sleep(0.1)
        assert [m.model for m in (await client.ps()).models] == ["a:1b"]  # still serving
        (a, _), (b, _) = await asyncio.gather(busy, other)
        stats = emu.stats
    assert a.message.content == " ".join(["word"] * 30) and a.done_reason == "stop"
    assert b.message.content == a.message.content
    assert stats.evictions == 1 and stats.loads == 2 and stats.queue_waits == 1
    assert (b.load_duration or 0) >= 0.2e9  # waited for a to finish, then loaded (0.1 s)


async def test_eviction_takes_the_least_recently_used_idle_model() -> None:
    budget = 2 * model_memory(TINIES[0], 2048, 1, "f16") + GiB // 2  # two tinies fit
    with OllamaEmulator(models=TINIES, gpu_memory=budget) as emu:
        client = ollama.AsyncClient(host=emu.base_url)
        for name in ("a:1b", "b:1b", "a:1b", "c:1b"):
            await ask(client, name)
        assert {m.model for m in (await client.ps()).models} == {"a:1b", "c:1b"}
        assert emu.stats.evictions == 1
        await client.chat(model="a:1b", messages=[], keep_alive="1m")  # a: shorter keep-alive
        await ask(client, "c:1b", keep_alive="1h")
        await ask(client, "b:1b")
        assert {m.model for m in (await client.ps()).models} == {"b:1b", "c:1b"}


def test_max_loaded_models_bounds_what_stays_loaded() -> None:
    with OllamaEmulator(models=TINIES, max_loaded_models=2) as emu:
        client = ollama.Client(host=emu.base_url)
        for name in ("a:1b", "b:1b", "c:1b"):
            client.chat(model=name, messages=[])
        assert [m.model for m in client.ps().models] == ["c:1b", "b:1b"]
        assert emu.stats.evictions == 1


def test_partial_offload_is_reported_and_slower() -> None:
    whole = model_memory(TINIES[0], 2048, 1, "f16")
    timings = {}
    for gpu in (None, whole // 2):
        with OllamaEmulator(models=TINIES, time_scale=1.0, gpu_memory=gpu) as emu:
            emu.set_reply(TEN_TOKENS)
            client = ollama.Client(host=emu.base_url)
            response = client.chat(model="a:1b", messages=[{"role": "user", "content": "x"}])
            (ps,) = client.ps().models
            timings[gpu] = response.eval_duration or 0
            if gpu is None:
                assert ps.size_vram == ps.size and emu.stats.partial_offloads == 0
            else:
                assert ps.size_vram == gpu and (ps.size or 0) > gpu
                assert emu.stats.partial_offloads == 1
    assert timings[whole // 2] > 3 * timings[None]  # half on the CPU: 5.5 times slower


async def test_a_full_queue_answers_503_server_busy() -> None:
    slow = [tiny("a:1b", load_seconds=0.3), tiny("b:1b", load_seconds=0.3)]
    with OllamaEmulator(models=slow, time_scale=1.0, max_queue=1) as emu:
        client = ollama.AsyncClient(host=emu.base_url)
        loading = asyncio.ensure_future(ask(client, "a:1b"))
        await asyncio.sleep(0.1)
        with pytest.raises(ollama.ResponseError) as info:
            await ask(client, "b:1b")
        assert info.value.status_code == 503
        assert info.value.error.startswith("server busy, please try again.")
        await loading
        assert emu.stats.busy_rejections == 1
        await ask(client, "a:1b")  # a loaded model's requests never queue for the scheduler


@pytest.mark.parametrize("time_scale", [0.0, 0.01])
async def test_durations_never_exceed_the_wall_time(time_scale: float) -> None:
    with OllamaEmulator(time_scale=time_scale, gpu_memory=24 * GiB) as emu:
        client = ollama.AsyncClient(host=emu.base_url)
        names = ["llama3.1:8b", "qwen2.5-coder:32b", "deepseek-r1:32b", "llama3.1:8b"] * 2
        results = await asyncio.gather(*(ask(client, name) for name in names))
        stats = emu.stats
    for response, wall in results:
        parts = [response.load_duration, response.prompt_eval_duration, response.eval_duration]
        assert all(p is not None and p >= 0 for p in parts)
        total = response.total_duration or 0
        assert sum(p or 0 for p in parts) <= total <= wall * 1e9
        assert "You said: hi" in (response.message.content or "")
    assert stats.evictions >= 2  # no two 32B models fit in 24 GiB
    if time_scale:
        assert stats.queue_waits >= 1
    else:
        assert all((r.total_duration or 0) < 0.5e9 for r, _ in results)  # real and tiny


def test_one_log_line_per_load_and_eviction(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="zero_llm.testing.scheduler")
    with OllamaEmulator(models=TINIES, max_loaded_models=1) as emu:
        client = ollama.Client(host=emu.base_url)
        client.chat(model="a:1b", messages=[])
        client.chat(model="b:1b", messages=[])
    lines = [r.getMessage() for r in caplog.records]
    assert [line.split()[0] for line in lines] == ["load", "evict", "load"]
    assert lines[1] == "evict a:1b to make room for b:1b"
