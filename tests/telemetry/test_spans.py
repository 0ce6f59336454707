"""Each call is one ``chat {model}`` span by the GenAI conventions, with zero-llm's own."""

from __future__ import annotations

import json

import pytest
from opentelemetry.trace import SpanKind, StatusCode

from tests.conftest import fast_settings
from tests.telemetry.conftest import Otel
from tests.telemetry.semconv import check_inference_span
from zero_llm import ModelManager, OllamaRequestError
from zero_llm.telemetry import instrument
from zero_llm.testing import OllamaEmulator


async def test_a_routed_call(manager: ModelManager, emulator: OllamaEmulator, otel: Otel) -> None:
    tracer = otel.tracer_provider.get_tracer("app")
    with tracer.start_as_current_span("agent step") as parent:
        answer = await manager.ask("Why did $NVDA fall after earnings?", session_id="s1")
    (span,) = otel.chat_spans()
    attrs = check_inference_span(span)
    trace = answer.trace
    assert span.name == "chat deepseek-r1:32b"
    assert span.parent is not None and span.parent.span_id == parent.get_span_context().span_id
    assert span.context.trace_id == parent.get_span_context().trace_id
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.provider.name"] == "ollama"
    assert attrs["gen_ai.request.model"] == attrs["gen_ai.response.model"] == "deepseek-r1:32b"
    assert attrs["server.address"] == "127.0.0.1" and attrs["server.port"] == emulator.port
    assert attrs["gen_ai.usage.input_tokens"] == trace.prompt_tokens
    assert attrs["gen_ai.usage.output_tokens"] == trace.output_tokens > 0
    assert 0 < attrs["gen_ai.usage.reasoning.output_tokens"] <= trace.output_tokens
    assert attrs["gen_ai.response.finish_reasons"] == ("stop",)
    assert attrs["gen_ai.conversation.id"] == "s1"
    assert "gen_ai.request.stream" not in attrs and "error.type" not in attrs
    # zero-llm's own: the route and what the call did
    assert attrs["zero_llm.route.task"] == "analysis"
    assert attrs["zero_llm.route.role"] == "reasoning"
    assert attrs["zero_llm.route.method"] == "classifier"
    assert attrs["zero_llm.route.confidence"] == pytest.approx(trace.route.confidence)
    assert "ticker" in attrs["zero_llm.route.signals"]
    assert "zero_llm.route.reason" not in attrs  # it may quote the prompt
    assert attrs["zero_llm.request_id"] == trace.request_id
    assert attrs["zero_llm.status"] == "ok" and attrs["zero_llm.attempts"] == 1
    assert attrs["zero_llm.retries"] == attrs["zero_llm.fallbacks"] == 0
    assert attrs["zero_llm.num_ctx"] == trace.num_ctx == 131072
    assert attrs["zero_llm.window.prompt_tokens_counted"] == trace.prompt_tokens_counted
    assert attrs["zero_llm.window.dropped_messages"] == 0
    assert attrs["zero_llm.window.cut_message"] is False
    assert attrs["zero_llm.cold_load"] is False
    # no prompt or answer text without log_content
    assert "gen_ai.input.messages" not in attrs and "gen_ai.output.messages" not in attrs
    assert not any("NVDA" in str(v) for v in attrs.values())
    assert span.status.status_code is StatusCode.UNSET
    # the span covers the call as the trace timed it
    assert span.end_time - span.start_time == pytest.approx(trace.latency_s * 1e9, rel=0.01)


async def test_request_parameters_are_recorded(manager: ModelManager, otel: Otel) -> None:
    from zero_llm.chat_model import ZeroChatModel

    chat = ZeroChatModel(manager, model="llama", temperature=0.25, max_tokens=64, stop=["END"])
    await chat.ainvoke("hello")
    (span,) = otel.chat_spans()
    attrs = check_inference_span(span)
    assert attrs["gen_ai.request.temperature"] == 0.25
    assert attrs["gen_ai.request.max_tokens"] == 64
    assert attrs["gen_ai.request.stop_sequences"] == ("END",)
    assert "zero_llm.route.task" not in attrs  # a named model is not routed


async def test_a_streamed_call(manager: ModelManager, otel: Otel) -> None:
    stream = await manager.query_model("llama", "tell me a story", stream=True)
    text = await stream.text()
    (span,) = otel.chat_spans()
    attrs = check_inference_span(span)
    assert text and span.name == "chat llama3.1:8b"
    assert attrs["gen_ai.request.stream"] is True
    first = stream.trace.first_token_s
    assert attrs["gen_ai.response.time_to_first_chunk"] == first
    assert 0 < first < stream.trace.latency_s
    assert span.parent is None  # no caller span: a root span


async def test_a_retried_call(manager: ModelManager, emulator: OllamaEmulator, otel: Otel) -> None:
    emulator.faults.busy_next(2)
    answer = await manager.query_model("llama", "retry me")
    (span,) = otel.chat_spans()
    attrs = check_inference_span(span)
    assert attrs["zero_llm.attempts"] == 3 and attrs["zero_llm.retries"] == 2
    assert span.status.status_code is StatusCode.UNSET and "error.type" not in attrs
    events = [e for e in span.events if e.name == "zero_llm.retry"]
    assert [e.attributes["zero_llm.attempt"] for e in events] == [1, 2]
    for event, step in zip(events, answer.trace.retries, strict=True):
        assert event.attributes["error.type"] == "OllamaBusyError"
        assert event.attributes["zero_llm.model"] == "llama3.1:8b"
        assert event.attributes["zero_llm.retry.backoff"] == step.backoff_s
        assert event.attributes["server.address"] == "127.0.0.1"  # the host it failed on
        assert event.attributes["server.port"] == emulator.port
        assert span.start_time <= event.timestamp <= span.end_time


async def test_a_fallback(manager: ModelManager, emulator: OllamaEmulator, otel: Otel) -> None:
    emulator.faults.fail_next(3, status=500)
    answer = await manager.query_model("qwen", "fallback please")
    assert answer.model == "llama3.1:8b"
    (span,) = otel.chat_spans()
    attrs = check_inference_span(span)
    assert span.name == "chat qwen2.5-coder:32b"  # named after the model asked for
    assert attrs["gen_ai.request.model"] == "qwen2.5-coder:32b"
    assert attrs["gen_ai.response.model"] == "llama3.1:8b"
    assert attrs["zero_llm.fallbacks"] == 1
    assert attrs["zero_llm.fallback.models"] == ("qwen2.5-coder:32b",)
    (fallback,) = [e for e in span.events if e.name == "zero_llm.fallback"]
    assert fallback.attributes["zero_llm.model"] == "qwen2.5-coder:32b"
    assert fallback.attributes["error.type"] == "OllamaServerError"
    retries = [e for e in span.events if e.name == "zero_llm.retry"]
    assert len(retries) == 2 and all(e.timestamp <= fallback.timestamp for e in retries)
    assert span.status.status_code is StatusCode.UNSET


async def test_a_failed_call(manager: ModelManager, emulator: OllamaEmulator, otel: Otel) -> None:
    emulator.faults.fail_next(1, status=400, message="bad option")
    with pytest.raises(OllamaRequestError):
        await manager.query_model("llama", "fail")
    (span,) = otel.chat_spans()
    attrs = check_inference_span(span)
    assert span.status.status_code is StatusCode.ERROR
    assert "bad option" in (span.status.description or "")
    assert attrs["error.type"] == "OllamaRequestError"
    assert attrs["zero_llm.status"] == "error"
    assert "gen_ai.response.model" not in attrs  # no model answered
    assert "gen_ai.usage.output_tokens" not in attrs  # unknown, not 0


async def test_a_stream_the_caller_stops_is_not_an_error(manager: ModelManager, otel: Otel) -> None:
    stream = await manager.query_model("llama", "a long story " * 20, stream=True)
    async for _ in stream:
        break
    await stream.aclose()
    (span,) = otel.chat_spans()
    attrs = check_inference_span(span)
    assert attrs["zero_llm.status"] == "cancelled"
    assert span.status.status_code is StatusCode.UNSET


async def test_content_only_with_log_content(
    emulator: OllamaEmulator, otel: Otel, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    mm = ModelManager(fast_settings(emulator.base_url, home=tmp_path, log_content=True))
    instrument(mm, tracer_provider=otel.tracer_provider, meter_provider=otel.meter_provider)
    try:
        answer = await mm.query_model("r1", "Is $NVDA overvalued?", context="Be brief.")
    finally:
        await mm.aclose()
    (span,) = otel.chat_spans()
    attrs = check_inference_span(span)
    sent = json.loads(attrs["gen_ai.input.messages"])
    assert sent == [
        {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
        {"role": "user", "parts": [{"type": "text", "content": "Is $NVDA overvalued?"}]},
    ]
    (said,) = json.loads(attrs["gen_ai.output.messages"])
    assert said["role"] == "assistant" and said["finish_reason"] == "stop"
    parts = {part["type"]: part["content"] for part in said["parts"]}
    assert parts == {"reasoning": answer.thinking, "text": str(answer)}


async def test_tool_calls_in_content(emulator: OllamaEmulator, otel: Otel, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

    mm = ModelManager(fast_settings(emulator.base_url, home=tmp_path, log_content=True))
    instrument(mm, tracer_provider=otel.tracer_provider)
    tool = {
        "type": "function",
        "function": {
            "name": "get_price",
            "description": "price of a ticker",
            "parameters": {
                "type": "object",
                "properties": {"ticker": {"type": "string"}},
                "required": ["ticker"],
            },
        },
    }
    chat = mm.chat_model(model="llama").bind_tools([tool])
    try:
        call = await chat.ainvoke("get the price of ticker=NVDA")
        history = [
            HumanMessage("get the price of ticker=NVDA"),
            call,
            ToolMessage("NVDA is 100", tool_call_id=call.tool_calls[0]["id"]),
        ]
        await chat.ainvoke(history)
    finally:
        await mm.aclose()
    first, second = otel.chat_spans()
    (out,) = json.loads(first.attributes["gen_ai.output.messages"])
    assert out["finish_reason"] == "tool_call"
    assert out["parts"] == [
        {
            "type": "tool_call",
            "id": call.tool_calls[0]["id"],
            "name": "get_price",
            "arguments": {"ticker": "NVDA"},
        }
    ]
    sent = json.loads(second.attributes["gen_ai.input.messages"])
    assert [m["role"] for m in sent] == ["user", "assistant", "tool"]
    assert sent[1]["parts"][0]["type"] == "tool_call"
    assert sent[2]["parts"] == [
        {"type": "tool_call_response", "id": call.tool_calls[0]["id"], "response": "NVDA is 100"}
    ]
    assert isinstance(call, AIMessage) and first.kind is SpanKind.CLIENT


async def test_a_stream_cut_mid_way(
    manager: ModelManager, emulator: OllamaEmulator, otel: Otel
) -> None:
    from zero_llm import StreamInterruptedError

    emulator.faults.cut_stream_after(2)
    stream = await manager.query_model("llama", "a long story " * 10, stream=True)
    with pytest.raises(StreamInterruptedError):
        await stream.text()
    (span,) = otel.chat_spans()
    attrs = check_inference_span(span)
    assert attrs["error.type"] == "StreamInterruptedError"
    assert span.status.status_code is StatusCode.ERROR
    assert attrs["gen_ai.response.time_to_first_chunk"] > 0  # it had started


async def test_structured_output_asks_for_json(manager: ModelManager, otel: Otel) -> None:
    schema = {
        "title": "View",
        "type": "object",
        "properties": {"stance": {"type": "string"}},
        "required": ["stance"],
    }
    chat = manager.chat_model(model="llama").with_structured_output(schema)
    await chat.ainvoke("Give me a view with 'stance'")
    (span,) = otel.chat_spans()
    assert check_inference_span(span)["gen_ai.output.type"] == "json"
