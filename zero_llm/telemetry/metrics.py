"""The metrics of every call: the GenAI conventions' histograms and zero-llm's own counters.

In: a finished call's ``CallTrace`` and ``UsageRecord``; the manager's ``HostPool`` (read at
collection time). Out: measurements on a meter provider's instruments:

- ``gen_ai.client.operation.duration`` (s), ``gen_ai.client.token.usage`` ({token}, by
  ``gen_ai.token.type``) and, for streams, ``gen_ai.client.operation.time_to_first_chunk``
  (s), with the conventions' attribute sets and advisory bucket boundaries (v1.41.0);
- ``zero_llm.model.loads`` and ``zero_llm.model.evictions`` (counters),
  ``zero_llm.queue.wait`` (s), ``zero_llm.retries`` and ``zero_llm.fallbacks`` (counters);
- per host, read when the reader collects: ``zero_llm.host.cooldowns`` (cooldowns started,
  a running count) and ``zero_llm.host.cooling`` (1 while the host cools, else 0).

Instruments are made once per meter provider and shared by every manager that uses it.
Only imported when telemetry is on (it imports ``opentelemetry``).
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Iterable
from typing import Any

from opentelemetry.metrics import CallbackOptions, MeterProvider, Observation

from zero_llm.answer import CallTrace
from zero_llm.ollama.hosts import HostPool
from zero_llm.telemetry import names as n
from zero_llm.telemetry.attributes import Attributes, metric_attributes, server_of
from zero_llm.usage import UsageRecord

__all__ = ["CallMetrics", "metrics_for"]

_by_provider: weakref.WeakKeyDictionary[MeterProvider, CallMetrics] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def metrics_for(provider: MeterProvider, version: str) -> CallMetrics:
    """The instruments on ``provider`` (made on first use, then shared)."""
    with _lock:
        found = _by_provider.get(provider)
        if found is None:
            found = _by_provider[provider] = CallMetrics(provider, version)
        return found


def _histogram(meter: Any, name: str, unit: str, description: str, buckets: Iterable[float]) -> Any:
    """A histogram with the conventions' advisory buckets (when the API knows the advice)."""
    try:
        return meter.create_histogram(
            name, unit=unit, description=description, explicit_bucket_boundaries_advisory=buckets
        )
    except TypeError:  # opentelemetry-api before advisory parameters
        return meter.create_histogram(name, unit=unit, description=description)


class CallMetrics:
    """The instruments of one meter provider, and how one call is measured on them."""

    def __init__(self, provider: MeterProvider, version: str) -> None:
        meter = provider.get_meter(n.INSTRUMENTATION_NAME, version, schema_url=n.SEMCONV_SCHEMA_URL)
        self.duration = _histogram(
            meter, n.OPERATION_DURATION, "s", "GenAI operation duration.", n.DURATION_BUCKETS
        )
        self.token_usage = _histogram(
            meter,
            n.TOKEN_USAGE,
            "{token}",
            "Number of input and output tokens used.",
            n.TOKEN_BUCKETS,
        )
        self.first_chunk = _histogram(
            meter,
            n.TIME_TO_FIRST_CHUNK_METRIC,
            "s",
            "Time to receive the first chunk, measured from when the client issues the "
            "generation request to when the first chunk is received in the response stream.",
            n.DURATION_BUCKETS,
        )
        self.queue_wait = _histogram(
            meter,
            n.METRIC_QUEUE_WAIT,
            "s",
            "Seconds a call waited for its model's turn (model swaps, queues) before it was sent.",
            n.DURATION_BUCKETS,
        )
        self.loads = meter.create_counter(
            n.METRIC_LOADS, unit="{load}", description="Calls that found their model not loaded."
        )
        self.evictions = meter.create_counter(
            n.METRIC_EVICTIONS,
            unit="{eviction}",
            description="Models a cold load pushed out of memory.",
        )
        self.retries = meter.create_counter(
            n.METRIC_RETRIES, unit="{retry}", description="Failed attempts that were retried."
        )
        self.fallbacks = meter.create_counter(
            n.METRIC_FALLBACKS,
            unit="{fallback}",
            description="Models given up on for the next model of their fallback chain.",
        )
        self._pools: weakref.WeakSet[HostPool] = weakref.WeakSet()
        meter.create_observable_counter(
            n.METRIC_COOLDOWNS,
            callbacks=[self._cooldowns],
            unit="{cooldown}",
            description="Cooldowns started per Ollama host (connection errors, timeouts, 5xx).",
        )
        meter.create_observable_gauge(
            n.METRIC_COOLING,
            callbacks=[self._cooling],
            unit="1",
            description="1 while an Ollama host cools down after failures, else 0.",
        )

    def watch(self, pool: HostPool) -> None:
        """Report ``pool``'s hosts in the per-host metrics (for as long as it lives)."""
        self._pools.add(pool)

    def _hosts(self) -> list[tuple[Attributes, Any]]:
        out = []
        for pool in list(self._pools):
            for host in pool.hosts:
                server = server_of(host.url)
                if server is not None:
                    out.append(({n.SERVER_ADDRESS: server[0], n.SERVER_PORT: server[1]}, host))
        return out

    def _cooldowns(self, options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(host.cooldowns, attrs) for attrs, host in self._hosts()]

    def _cooling(self, options: CallbackOptions) -> Iterable[Observation]:
        now = time.monotonic()  # the pool's own clock
        return [Observation(int(host.cooling(now)), attrs) for attrs, host in self._hosts()]

    def record(self, trace: CallTrace, record: UsageRecord | None) -> None:
        """Measure one finished call (a cancelled one adds no duration: the caller ended it)."""
        attributes = metric_attributes(trace)
        if trace.latency_s is not None and not trace.cancelled:
            self.duration.record(trace.latency_s, attributes)
        plain = {k: v for k, v in attributes.items() if k != n.ERROR_TYPE}
        if trace.streamed and trace.first_token_s is not None:
            self.first_chunk.record(trace.first_token_s, plain)
        if trace.prompt_tokens is not None:
            self.token_usage.record(trace.prompt_tokens, {**plain, n.TOKEN_TYPE: "input"})
        if trace.output_tokens is not None:
            self.token_usage.record(trace.output_tokens, {**plain, n.TOKEN_TYPE: "output"})
        server: Attributes = {}
        if (where := server_of(trace.host)) is not None:
            server = {n.SERVER_ADDRESS: where[0], n.SERVER_PORT: where[1]}
        model = trace.model or trace.requested_model
        cold = record.cold_load if record is not None else bool(trace.cold_load)
        if cold:
            self.loads.add(1, {n.REQUEST_MODEL: model, **server})
        for evicted in trace.evicted:
            self.evictions.add(1, {n.ZL_MODEL: evicted, **server})
        if trace.queue_wait_s is not None:
            self.queue_wait.record(trace.queue_wait_s, {n.REQUEST_MODEL: model, **server})
        for step in trace.retries:
            self.retries.add(1, {n.REQUEST_MODEL: step.model, n.ERROR_TYPE: step.error_type})
        for fallback in trace.fallbacks:
            self.fallbacks.add(
                1, {n.REQUEST_MODEL: fallback.model, n.ERROR_TYPE: fallback.error_type}
            )
