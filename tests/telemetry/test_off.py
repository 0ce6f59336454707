"""Off costs nothing: no opentelemetry, no provider, or telemetry=false; and the globals."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from opentelemetry.sdk.trace import TracerProvider

from tests.conftest import fast_settings
from tests.telemetry.conftest import Otel
from zero_llm import ModelManager
from zero_llm.requests import make_request
from zero_llm.telemetry import instrument
from zero_llm.testing import OllamaEmulator

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str, tmp_path: Path) -> dict:
    """Run ``code`` in a fresh interpreter (the global providers can be set once a process)."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_without_opentelemetry_installed(emulator: OllamaEmulator, tmp_path: Path) -> None:
    result = _run(
        f"""
        import importlib.abc, json, sys

        class NoOtel(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name == "opentelemetry" or name.startswith("opentelemetry."):
                    raise ModuleNotFoundError(f"No module named {{name!r}}")
                return None

        sys.meta_path.insert(0, NoOtel())
        from zero_llm import ModelManager
        from zero_llm.telemetry import otel_installed

        with ModelManager(ollama_host={emulator.base_url!r}, home={str(tmp_path)!r}) as mm:
            answer = mm.query_model_sync("llama", "hello")
            off = mm.core.telemetry.active() is None
        loaded = sorted(m for m in sys.modules if m.startswith("opentelemetry"))
        print(json.dumps({{"answer": str(answer), "off": off, "installed": otel_installed(),
                           "loaded": loaded}}))
        """,
        tmp_path,
    )
    assert result["answer"] and result["off"] is True
    assert result["installed"] is False and result["loaded"] == []


def test_the_global_providers_are_used(emulator: OllamaEmulator, tmp_path: Path) -> None:
    result = _run(
        f"""
        import json
        from opentelemetry import metrics, trace
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        exporter, reader = InMemorySpanExporter(), InMemoryMetricReader()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
        metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))

        from zero_llm import ModelManager

        with ModelManager(ollama_host={emulator.base_url!r}, home={str(tmp_path)!r}) as mm:
            with trace.get_tracer("app").start_as_current_span("app"):
                mm.query_model_sync("llama", "hello")
        spans = {{s.name: s for s in exporter.get_finished_spans()}}
        chat = spans["chat llama3.1:8b"]
        names = [m.name for r in reader.get_metrics_data().resource_metrics
                 for s in r.scope_metrics for m in s.metrics]
        print(json.dumps({{"parent": chat.parent.span_id == spans["app"].context.span_id,
                           "scope": chat.instrumentation_scope.name,
                           "schema": chat.instrumentation_scope.schema_url,
                           "metrics": names}}))
        """,
        tmp_path,
    )
    assert result["parent"] is True
    assert result["scope"] == "zero_llm"
    assert result["schema"] == "https://opentelemetry.io/schemas/1.41.0"
    assert "gen_ai.client.operation.duration" in result["metrics"]


async def test_no_provider_means_no_wrapper(emulator: OllamaEmulator, tmp_path: Path) -> None:
    # No global provider is set in the test process (tests pass theirs to instrument()).
    async with ModelManager(fast_settings(emulator.base_url, home=tmp_path)) as mm:
        assert await mm.query_model("llama", "hello")
        assert mm.core.telemetry.active() is None
        chunks, _ = mm.core.chunks(make_request("hi", model="llama"), stream=False)
        assert chunks.__qualname__ == "QueryCore._run_request"  # the core's own, unwrapped
        await chunks.aclose()  # type: ignore[attr-defined]


async def test_turned_off_by_the_setting(
    emulator: OllamaEmulator, otel: Otel, tmp_path: Path
) -> None:
    settings = fast_settings(emulator.base_url, home=tmp_path, telemetry=False)
    async with ModelManager(settings) as mm:
        on = instrument(
            mm, tracer_provider=otel.tracer_provider, meter_provider=otel.meter_provider
        )
        await mm.query_model("llama", "hello")
    assert on is False and otel.spans() == [] and otel.metrics() == {}


async def test_instrument_after_the_first_call(
    emulator: OllamaEmulator, otel: Otel, tmp_path: Path
) -> None:
    async with ModelManager(fast_settings(emulator.base_url, home=tmp_path)) as mm:
        await mm.query_model("llama", "before")  # decided: off
        assert instrument(mm, tracer_provider=otel.tracer_provider) is True
        await mm.query_model("llama", "after")
    (span,) = otel.spans()
    assert span.name == "chat llama3.1:8b"
    assert otel.metrics() == {}  # traces only: metrics go to the (unset) global provider


class _BrokenTracerProvider(TracerProvider):
    """A provider whose tracers fail to start spans (a buggy vendor SDK)."""

    def get_tracer(self, *args: object, **kwargs: object) -> object:  # type: ignore[override]
        tracer = super().get_tracer(*args, **kwargs)  # type: ignore[arg-type]

        def start_span(*a: object, **k: object) -> object:
            raise RuntimeError("exporter exploded")

        tracer.start_span = start_span  # type: ignore[method-assign]
        return tracer


class _UnusableTracerProvider(TracerProvider):
    def get_tracer(self, *args: object, **kwargs: object) -> object:  # type: ignore[override]
        raise RuntimeError("no tracer for you")


async def test_broken_telemetry_never_fails_a_call(
    emulator: OllamaEmulator, otel: Otel, tmp_path: Path
) -> None:
    async with ModelManager(fast_settings(emulator.base_url, home=tmp_path)) as mm:
        assert instrument(mm, tracer_provider=_UnusableTracerProvider()) is False
        assert await mm.query_model("llama", "still answered")
        broken = _BrokenTracerProvider()
        assert instrument(mm, tracer_provider=broken, meter_provider=otel.meter_provider)
        assert await mm.query_model("llama", "still answered")
        stream = await mm.query_model("llama", "streamed too", stream=True)
        assert await stream.text()
    assert len(otel.points("gen_ai.client.operation.duration")) == 1  # metrics still flow
    assert otel.points("gen_ai.client.operation.duration")[0].count == 2
