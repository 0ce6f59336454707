"""Telemetry tests: the SDK's in-memory span exporter and metric reader, passed explicitly.

The global providers can be set only once per process, so every test builds its own
``TracerProvider`` and ``MeterProvider`` and hands them to its manager with ``instrument``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.conftest import fast_settings
from zero_llm import ModelManager
from zero_llm.telemetry import instrument
from zero_llm.testing import OllamaEmulator


@dataclass
class Otel:
    """One test's providers and what they collected."""

    tracer_provider: TracerProvider
    exporter: InMemorySpanExporter
    meter_provider: MeterProvider
    reader: InMemoryMetricReader

    def spans(self) -> list[ReadableSpan]:
        """The finished spans, in the order they ended."""
        return list(self.exporter.get_finished_spans())

    def chat_spans(self) -> list[ReadableSpan]:
        """The finished ``chat ...`` spans."""
        return [s for s in self.spans() if s.name.startswith("chat")]

    def metrics(self) -> dict[str, Any]:
        """Each metric by name (the SDK's ``Metric``), read now."""
        data = self.reader.get_metrics_data()
        found: dict[str, Any] = {}
        if data is None:
            return found
        for resource in data.resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    found[metric.name] = metric
        return found

    def points(self, name: str) -> list[Any]:
        """The data points of one metric (empty when it was never recorded)."""
        metric = self.metrics().get(name)
        return list(metric.data.data_points) if metric is not None else []


@pytest.fixture
def otel() -> Iterator[Otel]:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    yield Otel(tracer_provider, exporter, meter_provider, reader)
    tracer_provider.shutdown()
    meter_provider.shutdown()


@pytest.fixture
async def manager(
    emulator: OllamaEmulator, otel: Otel, tmp_path: Path
) -> AsyncIterator[ModelManager]:
    mm = ModelManager(fast_settings(emulator.base_url, home=tmp_path))
    assert instrument(mm, tracer_provider=otel.tracer_provider, meter_provider=otel.meter_provider)
    yield mm
    await mm.aclose()
