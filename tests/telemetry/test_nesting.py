"""Spans nest under the caller's span: async, streams, sync calls, LangChain, agents, crowds."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from langchain.agents import create_agent
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import tool
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan

from tests.conftest import fast_settings
from tests.telemetry.conftest import Otel
from tests.telemetry.semconv import check_inference_span
from zero_llm import ModelManager
from zero_llm.telemetry import instrument
from zero_llm.testing import OllamaEmulator


@tool
def get_price(ticker: str) -> str:
    """The last traded price of a stock ticker."""
    return f"{ticker} last traded at 123.45"


@pytest.fixture
def sync_manager(emulator: OllamaEmulator, otel: Otel, tmp_path: Path) -> Iterator[ModelManager]:
    mm = ModelManager(fast_settings(emulator.base_url, home=tmp_path))
    instrument(mm, tracer_provider=otel.tracer_provider, meter_provider=otel.meter_provider)
    yield mm
    mm.close()


def _by_request(otel: Otel) -> dict[str, ReadableSpan]:
    return {str(s.attributes["zero_llm.request_id"]): s for s in otel.chat_spans()}


def _parent_name(otel: Otel, span: ReadableSpan) -> str | None:
    names = {s.context.span_id: s.name for s in otel.spans()}
    return names.get(span.parent.span_id) if span.parent is not None else None


async def test_concurrent_calls_each_under_its_own_caller(
    manager: ModelManager, otel: Otel
) -> None:
    tracer = otel.tracer_provider.get_tracer("app")

    async def caller(i: int) -> str:
        with tracer.start_as_current_span(f"caller {i}"):
            await asyncio.sleep(0)  # let the others start theirs
            answer = await manager.query_model("llama", f"question number {i}")
        return answer.trace.request_id

    ids = await asyncio.gather(*(caller(i) for i in range(8)))
    spans = _by_request(otel)
    assert len(spans) == 8
    for i, request_id in enumerate(ids):
        assert _parent_name(otel, spans[request_id]) == f"caller {i}"
        check_inference_span(spans[request_id])


async def test_interleaved_streams_keep_the_parent_they_were_made_in(
    manager: ModelManager, otel: Otel
) -> None:
    tracer = otel.tracer_provider.get_tracer("app")
    streams = []
    for i in range(3):  # made under three different spans, read later, interleaved, by one task
        with tracer.start_as_current_span(f"maker {i}"):
            streams.append(await manager.query_model("llama", f"story {i} " * 10, stream=True))
    with tracer.start_as_current_span("reader"):
        iterators = [aiter(s) for s in streams]
        for it in iterators:  # every stream is under way before any ends
            await anext(it)
        for it in iterators:
            async for _ in it:
                pass
    spans = _by_request(otel)
    for i, stream in enumerate(streams):
        span = spans[stream.trace.request_id]
        assert _parent_name(otel, span) == f"maker {i}"
    starts = [s.start_time for s in spans.values()]
    ends = [s.end_time for s in spans.values()]
    assert max(starts) < min(ends)  # they really overlapped


def test_sync_calls_from_threads_through_the_bridge(sync_manager: ModelManager, otel: Otel) -> None:
    tracer = otel.tracer_provider.get_tracer("app")
    chat = sync_manager.chat_model(model="llama")
    start = threading.Barrier(4)

    def caller(i: int) -> list[str]:
        start.wait()
        with tracer.start_as_current_span(f"thread {i}"):
            answer = sync_manager.query_model_sync("llama", f"sync {i}")
            message = chat.invoke(f"invoke {i}")
            chunks = list(chat.stream(f"stream {i}"))
            streamed = sync_manager.query_model_sync("llama", f"text {i}", stream=True)
            "".join(streamed)
        ids = [answer.trace.request_id, message.response_metadata["request_id"]]
        ids.append(chunks[-1].response_metadata["request_id"])
        assert streamed.answer is not None
        return [*ids, streamed.answer.trace.request_id]

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(caller, range(4)))
    spans = _by_request(otel)
    assert len(spans) == 16
    for i, ids in enumerate(results):
        for request_id in ids:
            assert _parent_name(otel, spans[request_id]) == f"thread {i}"


def test_langchain_steps_and_batches_nest(sync_manager: ModelManager, otel: Otel) -> None:
    tracer = otel.tracer_provider.get_tracer("app")

    def step(question: str) -> str:
        with tracer.start_as_current_span("prepare"):
            return question.upper()

    chain = RunnableLambda(step) | sync_manager.chat_model(model="llama") | StrOutputParser()
    with tracer.start_as_current_span("pipeline"):
        chain.invoke("one")
        chain.batch(["two", "three", "four"])  # LangChain's threads copy the context
    chats = otel.chat_spans()
    assert len(chats) == 4
    assert {_parent_name(otel, s) for s in chats} == {"pipeline"}


async def test_an_agent_step_with_a_tool_model(
    emulator: OllamaEmulator, otel: Otel, tmp_path: Path
) -> None:
    reasoning = {"reasoning": {"tool_policy": "gather_then_answer"}}
    manager = ModelManager(fast_settings(emulator.base_url, home=tmp_path, models=reasoning))
    instrument(manager, tracer_provider=otel.tracer_provider, meter_provider=otel.meter_provider)
    tracer = otel.tracer_provider.get_tracer("app")
    agent = create_agent(model=manager.chat_model(task="trading"), tools=[get_price])
    with tracer.start_as_current_span("agent run") as run:
        result = await agent.ainvoke({"messages": ["what is the price of ticker=NVDA today?"]})
    assert "123.45" in str(result["messages"][-1].content)
    chats = otel.chat_spans()
    # step 1: llama3.1:8b calls the tool for deepseek-r1 (no tools capability);
    # step 2: llama3.1:8b looks and calls nothing (its own span), deepseek-r1 answers.
    call, look, answer = chats
    for span in chats:
        check_inference_span(span)
        assert span.context.trace_id == run.get_span_context().trace_id
    assert call.name == answer.name == "chat deepseek-r1:32b"
    assert call.attributes["gen_ai.response.model"] == "llama3.1:8b"
    assert call.attributes["zero_llm.tool_model"] == "llama3.1:8b"
    assert call.attributes["zero_llm.tool_calling"] == "gather_then_answer"
    assert call.attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert answer.attributes["gen_ai.response.model"] == "deepseek-r1:32b"
    assert _parent_name(otel, call) == _parent_name(otel, answer) == "agent run"
    assert look.name == "chat llama3.1:8b" and look.attributes["zero_llm.side_call"] is True
    assert look.parent is not None and look.parent.span_id == answer.context.span_id
    assert answer.start_time <= look.start_time and look.end_time <= answer.end_time
    await manager.aclose()


async def test_an_agent_step_with_structured_tool_calls(manager: ModelManager, otel: Otel) -> None:
    tracer = otel.tracer_provider.get_tracer("app")
    agent = create_agent(model=manager.chat_model(model="llama"), tools=[get_price])
    with tracer.start_as_current_span("agent run"):
        result = await agent.ainvoke({"messages": ["what is the price of ticker=NVDA today?"]})
    assert "123.45" in str(result["messages"][-1].content)
    chats = otel.chat_spans()
    assert len(chats) == 2  # the tool call, then the answer
    for span in chats:
        attrs = check_inference_span(span)
        assert attrs["gen_ai.request.model"] == "llama3.1:8b"
        assert _parent_name(otel, span) == "agent run"
    assert chats[0].attributes["zero_llm.tool_calling"] in ("native", "structured")


class _SpanPerModelRun(BaseCallbackHandler):
    """A callback handler that traces each chat-model run as a span it makes current, as
    LangChain's OpenTelemetry instrumentations do (inline, in the caller's context)."""

    run_inline = True

    def __init__(self, otel: Otel) -> None:
        self.tracer = otel.tracer_provider.get_tracer("langchain")
        self.open: dict[object, tuple[object, object]] = {}

    def on_chat_model_start(self, serialized, messages, *, run_id, **kwargs):  # type: ignore[no-untyped-def]
        span = self.tracer.start_span("langchain chat model run")
        token = otel_context.attach(trace.set_span_in_context(span))
        self.open[run_id] = (span, token)

    def on_llm_end(self, response, *, run_id, **kwargs):  # type: ignore[no-untyped-def]
        span, token = self.open.pop(run_id)
        otel_context.detach(token)  # type: ignore[arg-type]
        span.end()  # type: ignore[attr-defined]


def test_a_callback_handlers_span_is_the_parent_sync(
    sync_manager: ModelManager, otel: Otel
) -> None:
    handler = _SpanPerModelRun(otel)
    chat = sync_manager.chat_model(model="llama")
    chat.invoke("hello", config={"callbacks": [handler]})
    (span,) = otel.chat_spans()
    assert _parent_name(otel, span) == "langchain chat model run"


async def test_a_callback_handlers_span_is_the_parent_async(
    manager: ModelManager, otel: Otel
) -> None:
    handler = _SpanPerModelRun(otel)
    chat = manager.chat_model(model="llama")
    await chat.ainvoke("hello", config={"callbacks": [handler]})
    async for _ in chat.astream("hello", config={"callbacks": [handler]}):
        pass
    spans = otel.chat_spans()
    assert len(spans) == 2
    assert {_parent_name(otel, span) for span in spans} == {"langchain chat model run"}
