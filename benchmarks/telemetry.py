"""Benchmark: what OpenTelemetry costs per call, off and on, against the emulator on loopback.

Rows (per call, not streamed, short prompt; and one streamed call of 42 chunks), each
measured in interleaved rounds so the machine's slow spells hit every row alike:

- raw ``ollama.AsyncClient.chat``: the baseline;
- ``query_model`` with ``telemetry=false`` (the setting: the path of a build without
  telemetry, but for one attribute read);
- ``query_model`` with telemetry on by default but no provider configured (off);
- ``query_model`` with the SDK's tracer and meter providers, an in-memory span exporter
  (``SimpleSpanProcessor``) and an in-memory metric reader (on).

Run it on a checkout without ``zero_llm.telemetry`` (e.g. main before it) for "today": the
rows that need telemetry are then left out. Not a test: numbers, no verdicts.

    python benchmarks/telemetry.py [--rounds 15]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from importlib.metadata import version
from typing import Any

import ollama

from benchmarks.overhead import emulator_process
from zero_llm import ModelManager, ZeroLLMSettings

PER_ROUND = 10
SHORT = "What moved the market today?"
LONG = "Tell me a long story about markets. " * 4


async def _batch(fn: Callable[[], Awaitable[Any]]) -> float:
    """Seconds per call over one batch."""
    started = time.perf_counter()
    for _ in range(PER_ROUND):
        await fn()
    return (time.perf_counter() - started) / PER_ROUND


async def _streamed(manager: ModelManager) -> None:
    stream = await manager.query_model("llama", LONG, stream=True)
    async for _ in stream:
        pass


def _managers(url: str) -> dict[str, ModelManager]:
    """One manager per row (its own home; the same emulator)."""
    if "telemetry" not in ZeroLLMSettings.model_fields:  # a build from before telemetry
        return {"today (no telemetry code)": ModelManager(ollama_host=url, home=tempfile.mkdtemp())}
    managers = {
        "telemetry=false": ModelManager(
            ollama_host=url, home=tempfile.mkdtemp(prefix="zl-b-"), telemetry=False
        ),
    }
    managers["off: no provider"] = ModelManager(
        ollama_host=url, home=tempfile.mkdtemp(prefix="zl-b-")
    )
    if importlib.util.find_spec("opentelemetry.sdk") is None:
        print("the 'on' row needs opentelemetry-sdk (pip install -e '.[test]')")
        return managers
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from zero_llm.telemetry import instrument

    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    on = ModelManager(ollama_host=url, home=tempfile.mkdtemp(prefix="zl-b-"))
    assert instrument(on, tracer_provider=tracer_provider, meter_provider=meter_provider)
    on.bench_exporter = exporter  # type: ignore[attr-defined]
    managers["on: SDK, in-memory exporter"] = on
    return managers


async def main(rounds: int) -> None:
    print(
        f"python {platform.python_version()}, {os.cpu_count()} cores; "
        + ", ".join(f"{p} {version(p)}" for p in ("zero-llm", "ollama", "httpx"))
        + (
            f", opentelemetry-sdk {version('opentelemetry-sdk')}"
            if importlib.util.find_spec("opentelemetry.sdk")
            else ""
        )
    )
    with emulator_process() as (url, _control):
        raw = ollama.AsyncClient(host=url)
        managers = _managers(url)
        for manager in managers.values():  # warm: profiles, encodings, connections
            await manager.load_model("llama")
            await manager.query_model("llama", SHORT)
            await _streamed(manager)
        calls: dict[str, list[float]] = {"raw ollama.AsyncClient.chat": []}
        streams: dict[str, list[float]] = {}
        for name in managers:
            calls[name], streams[name] = [], []
        wire = [{"role": "user", "content": SHORT}]
        for _ in range(rounds):
            calls["raw ollama.AsyncClient.chat"].append(
                await _batch(lambda: raw.chat(model="llama3.1:8b", messages=wire, stream=False))
            )
            for name, manager in managers.items():
                calls[name].append(
                    await _batch(lambda manager=manager: manager.query_model("llama", SHORT))
                )
                streams[name].append(await _batch(lambda manager=manager: _streamed(manager)))
                exporter = getattr(manager, "bench_exporter", None)
                if exporter is not None:
                    exporter.clear()
        base = min(calls["raw ollama.AsyncClient.chat"])
        print(f"\nper call, not streamed, short prompt ({rounds} rounds x {PER_ROUND} calls)")
        for name, samples in calls.items():
            best, median = min(samples), statistics.median(samples)
            print(
                f"  {name:<32} {best * 1e3:7.3f} ms (median {median * 1e3:7.3f})"
                f"  x{best / base:5.2f} of raw"
            )
        first = min(next(iter(streams.values())))
        print("\nper streamed call (42 chunks)")
        for name, samples in streams.items():
            best, median = min(samples), statistics.median(samples)
            print(
                f"  {name:<32} {best * 1e3:7.3f} ms (median {median * 1e3:7.3f})"
                f"  x{best / first:5.3f} of the first row"
            )
        for manager in managers.values():
            await manager.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    asyncio.run(main(parser.parse_args().rounds))
