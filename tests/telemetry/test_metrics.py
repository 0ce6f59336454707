"""The GenAI client metrics by the conventions, and zero-llm's own counters."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import fast_settings
from tests.telemetry.conftest import Otel
from tests.telemetry.semconv import check_metric
from zero_llm import ModelManager, OllamaRequestError
from zero_llm.telemetry import instrument
from zero_llm.testing import OllamaEmulator

GiB = 2**30


def _one(points: list, **attributes: object) -> object:
    found = [p for p in points if all(p.attributes.get(k) == v for k, v in attributes.items())]
    assert len(found) == 1, (attributes, [dict(p.attributes) for p in points])
    return found[0]


async def test_the_conventions_metrics(
    manager: ModelManager, emulator: OllamaEmulator, otel: Otel
) -> None:
    answer = await manager.query_model("llama", "hello there")
    stream = await manager.query_model("llama", "a story", stream=True)
    await stream.text()
    emulator.faults.fail_next(1, status=400, message="bad option")
    with pytest.raises(OllamaRequestError):
        await manager.query_model("qwen", "fail")
    metrics = otel.metrics()
    for name in (
        "gen_ai.client.token.usage",
        "gen_ai.client.operation.duration",
        "gen_ai.client.operation.time_to_first_chunk",
    ):
        check_metric(metrics[name])
    where = {"server.address": "127.0.0.1", "server.port": emulator.port}
    ok = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "ollama",
        "gen_ai.request.model": "llama3.1:8b",
        "gen_ai.response.model": "llama3.1:8b",
        **where,
    }
    durations = otel.points("gen_ai.client.operation.duration")
    both = _one(durations, **ok)
    assert both.count == 2 and "error.type" not in both.attributes
    assert both.sum == pytest.approx(answer.trace.latency_s + stream.trace.latency_s)
    failed = _one(durations, **{"error.type": "OllamaRequestError"})
    assert failed.count == 1 and failed.attributes["gen_ai.request.model"] == "qwen2.5-coder:32b"
    assert "gen_ai.response.model" not in failed.attributes
    tokens = otel.points("gen_ai.client.token.usage")
    inputs = _one(tokens, **ok, **{"gen_ai.token.type": "input"})
    outputs = _one(tokens, **ok, **{"gen_ai.token.type": "output"})
    assert inputs.sum == answer.trace.prompt_tokens + stream.trace.prompt_tokens
    assert outputs.sum == answer.trace.output_tokens + stream.trace.output_tokens
    assert len(tokens) == 2  # the failed call reported no counts: no token usage
    (first,) = otel.points("gen_ai.client.operation.time_to_first_chunk")
    assert first.count == 1 and first.sum == pytest.approx(stream.trace.first_token_s)


async def test_retries_fallbacks_and_cooldowns(
    manager: ModelManager, emulator: OllamaEmulator, otel: Otel
) -> None:
    emulator.faults.busy_next(1)
    await manager.query_model("llama", "busy once")
    emulator.faults.fail_next(3, status=500)
    await manager.query_model("qwen", "fallback please")
    retries = otel.points("zero_llm.retries")
    busy = _one(retries, **{"error.type": "OllamaBusyError"})
    assert busy.value == 1 and busy.attributes["gen_ai.request.model"] == "llama3.1:8b"
    server = _one(retries, **{"error.type": "OllamaServerError"})
    assert server.value == 2 and server.attributes["gen_ai.request.model"] == "qwen2.5-coder:32b"
    (fallback,) = otel.points("zero_llm.fallbacks")
    assert fallback.value == 1
    assert dict(fallback.attributes) == {
        "gen_ai.request.model": "qwen2.5-coder:32b",
        "error.type": "OllamaServerError",
    }
    (cooldowns,) = otel.points("zero_llm.host.cooldowns")
    assert cooldowns.value == 4  # each failed attempt on the one host
    assert dict(cooldowns.attributes) == {
        "server.address": "127.0.0.1",
        "server.port": emulator.port,
    }
    (cooling,) = otel.points("zero_llm.host.cooling")
    assert cooling.value == 0  # the last call succeeded: healthy again


async def test_cold_loads_evictions_and_queue_wait(otel: Otel, tmp_path: Path) -> None:
    with OllamaEmulator(gpu_memory=24 * GiB) as gpu24:
        settings = fast_settings(gpu24.base_url, home=tmp_path, memory={"gpu_memory": "24GiB"})
        async with ModelManager(settings) as mm:
            instrument(mm, tracer_provider=otel.tracer_provider, meter_provider=otel.meter_provider)
            await mm.query_model("qwen", "write a function")
            await mm.query_model("qwen", "and another")
            switch = await mm.query_model("r1", "analyse NVDA")
    assert switch.trace.evicted == ("qwen2.5-coder:32b",)
    loads = otel.points("zero_llm.model.loads")
    assert _one(loads, **{"gen_ai.request.model": "qwen2.5-coder:32b"}).value == 1
    assert _one(loads, **{"gen_ai.request.model": "deepseek-r1:32b"}).value == 1
    (evicted,) = otel.points("zero_llm.model.evictions")
    assert evicted.value == 1 and evicted.attributes["zero_llm.model"] == "qwen2.5-coder:32b"
    waits = otel.points("zero_llm.queue.wait")
    assert sum(p.count for p in waits) == 3
    span = otel.chat_spans()[-1]
    assert span.attributes["zero_llm.cold_load"] is True
    assert span.attributes["zero_llm.cold_load.evicted"] == ("qwen2.5-coder:32b",)
    assert span.attributes["zero_llm.queue.wait"] == switch.trace.queue_wait_s


async def test_failover_names_the_host_that_answered(otel: Otel, tmp_path: Path) -> None:
    with OllamaEmulator() as a, OllamaEmulator() as b:
        hosts = [{"url": a.base_url}, {"url": b.base_url}]
        async with ModelManager(fast_settings(a.base_url, home=tmp_path, hosts=hosts)) as mm:
            instrument(mm, tracer_provider=otel.tracer_provider, meter_provider=otel.meter_provider)
            await ModelManager(fast_settings(a.base_url, home=tmp_path)).load_model("llama")
            a.faults.refuse_connections(5.0)  # resident on a, which is down: b answers
            answer = await mm.query_model("llama", "which host?")
            assert answer.trace.host == b.base_url
            (span,) = otel.chat_spans()
            assert span.attributes["server.port"] == b.port
            cooldowns = {
                p.attributes["server.port"]: p.value for p in otel.points("zero_llm.host.cooldowns")
            }
            cooling = {
                p.attributes["server.port"]: p.value for p in otel.points("zero_llm.host.cooling")
            }
    assert cooldowns == {a.port: 1, b.port: 0}
    assert cooling == {a.port: 1, b.port: 0}  # a still cools
