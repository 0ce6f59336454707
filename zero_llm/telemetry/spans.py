"""Every model call as a ``chat {model}`` span, child of the caller's current span.

In: the core's answer chunks (an async iterator), the call's ``CallTrace`` and request, and
later its ``UsageRecord``. Out: the same chunks, unchanged, while a CLIENT span covers the
call; metrics through ``CallMetrics``.

How the span finds its parent and its children:

- The parent is the OpenTelemetry context current when the core's ``chunks()`` is called,
  which is the caller's: ``await mm.query_model(...)``, a ``ZeroChatModel`` called by an
  agent or LangGraph (LangChain runs it in the caller's context), a sync call (the sync
  bridge copies the caller's context into its loop) or a stream (the context is taken when
  the stream is made, not when its chunks are read).
- The span is current only while the core works (each step of the iteration attaches and
  detaches it, never across a ``yield``), so HTTP client instrumentation nests each attempt's
  request under it, and concurrent calls never see each other's span.
- It ends when the core records the call's usage (success, failure or a caller who stopped
  reading), with the whole trace's attributes, retries and fallbacks as events at the time
  they happened. A tool model's look that made no tool call (``gather_then_answer``) is a
  call of its own: a ``chat {tool model}`` child span with its own metrics.

Only imported when telemetry is on (it imports ``opentelemetry``).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import Any

from langchain_core.messages import AIMessageChunk
from opentelemetry import context as otel_context
from opentelemetry import trace as trace_api
from opentelemetry.trace import SpanKind, Status, StatusCode, TracerProvider

from zero_llm.answer import CallTrace
from zero_llm.catalog import Catalog, ModelSpec
from zero_llm.errors import ZeroLLMError
from zero_llm.requests import QueryRequest
from zero_llm.routing.router import RouteDecision
from zero_llm.telemetry import attributes as a
from zero_llm.telemetry import names as n
from zero_llm.telemetry.metrics import CallMetrics
from zero_llm.usage import UsageRecord

__all__ = ["CallTelemetry"]

log = logging.getLogger(__name__)

_OBSERVATION = otel_context.create_key("zero_llm.observed_call")
"""Where the context carries the call being observed, for the usage hook to find."""
STATUS_LIMIT = 500


@dataclass
class _Observation:
    """One observed call: its trace, request, span, and (with log_content) its answer."""

    trace: CallTrace
    request: QueryRequest
    span: trace_api.Span | None
    ended: bool = False
    text: list[str] = field(default_factory=list)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    thinking: list[str] = field(default_factory=list)

    def take(self, chunk: AIMessageChunk) -> None:
        """Keep what the answer says (only when content is logged)."""
        if chunk.content:
            self.text.append(chunk.text)
        if reasoning := chunk.additional_kwargs.get("reasoning_content"):
            self.thinking.append(str(reasoning))
        for call in chunk.tool_call_chunks:
            self.tool_calls.append(
                {"id": call.get("id"), "name": call.get("name"), "args": call.get("args")}
            )


def _ns(seconds: float) -> int:
    return int(seconds * 1e9)


class CallTelemetry:
    """Spans and metrics of one manager's calls (telemetry on).

    Args:
        tracer_provider: where spans go (None: no spans).
        metrics: the instruments measurements go to (None: no metrics).
        catalog: the manager's models (for request parameters and span names).
        log_content: put prompts and answers on the spans (the conventions' opt-in
            ``gen_ai.input.messages`` / ``gen_ai.output.messages``).
        single_host: the one Ollama host, when there is only one (known at span start).
        version: zero-llm's version, the instrumentation scope's.
    """

    def __init__(
        self,
        tracer_provider: TracerProvider | None,
        metrics: CallMetrics | None,
        catalog: Catalog,
        *,
        log_content: bool,
        single_host: str | None,
        version: str,
    ) -> None:
        self.tracer = (
            tracer_provider.get_tracer(
                n.INSTRUMENTATION_NAME, version, schema_url=n.SEMCONV_SCHEMA_URL
            )
            if tracer_provider is not None
            else None
        )
        self.metrics = metrics
        self.catalog = catalog
        self.log_content = log_content
        self.single_host = single_host

    # ---------------------------------------------------------------- spans
    def observe(
        self,
        chunks: AsyncIterator[AIMessageChunk],
        trace: CallTrace,
        request: QueryRequest,
        route: RouteDecision | None = None,
    ) -> AsyncIterator[AIMessageChunk]:
        """The core's chunks, relayed under the call's span (parent: the context now)."""
        return self._observed(chunks, trace, request, route, otel_context.get_current())

    async def _observed(
        self,
        chunks: AsyncIterator[AIMessageChunk],
        trace: CallTrace,
        request: QueryRequest,
        route: RouteDecision | None,
        parent: otel_context.Context,
    ) -> AsyncIterator[AIMessageChunk]:
        span = self._start(trace, request, route, parent)
        observation = _Observation(trace, request, span)
        inside = parent if span is None else trace_api.set_span_in_context(span, parent)
        inside = otel_context.set_value(_OBSERVATION, observation, inside)
        finished = False
        try:
            while True:
                token = otel_context.attach(inside)
                try:
                    chunk = await anext(chunks)
                except StopAsyncIteration:
                    finished = True
                    return
                finally:
                    otel_context.detach(token)
                if self.log_content:
                    observation.take(chunk)
                yield chunk
        finally:
            if not finished:  # an error, or the caller stopped reading: let the core note it
                token = otel_context.attach(inside)
                try:
                    await chunks.aclose()  # type: ignore[attr-defined]
                finally:
                    otel_context.detach(token)
            if not observation.ended:  # the core never recorded the call (a bug): close it
                try:
                    self._end(observation, None)
                except Exception as exc:
                    log.error("could not end the span of call %s: %s", trace.request_id, exc)

    def _start(
        self,
        trace: CallTrace,
        request: QueryRequest,
        route: RouteDecision | None,
        parent: otel_context.Context,
    ) -> trace_api.Span | None:
        """Start the call's span at the call's start, with what samplers should see."""
        if self.tracer is None:
            return None
        model = route.model if route is not None else self._named_model(request)
        try:
            return self._started(trace, request, model, parent)
        except Exception as exc:  # telemetry never fails a call
            log.error("could not start the span of call %s: %s", trace.request_id, exc)
            return None

    def _started(
        self,
        trace: CallTrace,
        request: QueryRequest,
        model: str | None,
        parent: otel_context.Context,
    ) -> trace_api.Span:
        assert self.tracer is not None
        return self.tracer.start_span(
            f"{n.OPERATION_CHAT} {model}" if model else n.OPERATION_CHAT,
            context=parent,
            kind=SpanKind.CLIENT,
            attributes=a.start_attributes(
                request, stream=trace.streamed, model=model, host=self.single_host
            ),
            start_time=_ns(trace.started_at),
        )

    def _named_model(self, request: QueryRequest) -> str | None:
        """The model a request names, resolved through the catalog (None: routed)."""
        if request.model is None:
            return None
        try:
            return self.catalog.resolve(request.model).name
        except ZeroLLMError:
            return request.model  # the call itself will say what is wrong with it

    def _spec(self, model: str) -> ModelSpec | None:
        role = self.catalog.find_role(model) if model else None
        return self.catalog.models[role] if role is not None else None

    def _attributes(self, observation: _Observation, record: UsageRecord | None) -> a.Attributes:
        trace, request = observation.trace, observation.request
        attributes = a.call_attributes(trace, record, log_content=self.log_content)
        attributes.update(a.request_attributes(request, self._spec(trace.requested_model)))
        if self.log_content:
            attributes[n.INPUT_MESSAGES] = a.input_messages(request.messages())
            if trace.status != "error":
                attributes[n.OUTPUT_MESSAGES] = a.output_messages(
                    "".join(observation.text),
                    observation.tool_calls,
                    "".join(observation.thinking),
                    trace.done_reason,
                )
        return attributes

    def _end(self, observation: _Observation, record: UsageRecord | None) -> None:
        """End the call's span with everything the finished trace knows."""
        observation.ended = True
        span, trace = observation.span, observation.trace
        if span is None or not span.is_recording():
            if span is not None:
                span.end()
            return
        if trace.requested_model:
            span.update_name(f"{n.OPERATION_CHAT} {trace.requested_model}")
        span.set_attributes(self._attributes(observation, record))
        _finish(span, trace)

    def _side_span(self, trace: CallTrace, record: UsageRecord | None) -> None:
        """A call the core made inside another (a tool model's look), as a child span."""
        if self.tracer is None:
            return
        span = self.tracer.start_span(
            f"{n.OPERATION_CHAT} {trace.requested_model}",
            kind=SpanKind.CLIENT,
            start_time=_ns(trace.started_at),
        )
        if span.is_recording():
            attributes = a.call_attributes(trace, record, log_content=self.log_content)
            attributes[n.ZL_SIDE_CALL] = True
            span.set_attributes(attributes)
        _finish(span, trace)

    # ---------------------------------------------------------------- usage
    def recorded(self, trace: CallTrace, record: UsageRecord | None) -> None:
        """The core recorded a finished call: measure it and end (or make) its span.

        Telemetry never fails a call: an error here is logged.
        """
        try:
            observation = otel_context.get_value(_OBSERVATION)
            main = isinstance(observation, _Observation) and observation.trace is trace
            if not main and trace.model:  # a side call asked its own model (the tool model)
                trace = replace(trace, requested_model=trace.model)
            if self.metrics is not None:
                self.metrics.record(trace, record)
            if isinstance(observation, _Observation) and main:
                self._end(observation, record)
            else:
                self._side_span(trace, record)
        except Exception as exc:
            log.error("could not record the telemetry of call %s: %s", trace.request_id, exc)


def _finish(span: trace_api.Span, trace: CallTrace) -> None:
    """Add the retry and fallback events, the status, and end the span at the call's end."""
    if span.is_recording():
        for step in trace.retries:
            name, attributes, at = a.retry_event(step)
            span.add_event(name, attributes, timestamp=at)
        for fallback in trace.fallbacks:
            name, attributes, at = a.fallback_event(fallback)
            span.add_event(name, attributes, timestamp=at)
        if trace.error_type is not None:
            span.set_status(Status(StatusCode.ERROR, (trace.error or "")[:STATUS_LIMIT]))
    end = None
    if trace.latency_s is not None:
        end = _ns(trace.started_at + trace.latency_s)
    span.end(end_time=end)
