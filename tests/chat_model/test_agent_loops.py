"""Agent loops that hold: scoped configuration, honest usage, memory keyed by identity.

Against the emulator over real sockets, with LangChain's and LangGraph's own machinery
(``create_agent``, ``StateGraph`` with ``InMemorySaver``, ``configurable_fields``).
"""

from __future__ import annotations

from typing import Any

from langchain.agents import create_agent
from langchain_core.caches import InMemoryCache
from langchain_core.callbacks import AsyncCallbackHandler, BaseCallbackHandler
from langchain_core.globals import set_llm_cache
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.runnables import ConfigurableField
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, MessagesState, StateGraph

from tests.conftest import fast_settings
from zero_llm import ModelManager
from zero_llm.testing import OllamaEmulator


@tool
def get_price(ticker: str) -> str:
    """The last traded price of a stock ticker."""
    return f"{ticker} last traded at 123.45"


class UsageEvents(BaseCallbackHandler):
    """Collects the zero_llm.usage custom events (a sync handler)."""

    def __init__(self) -> None:
        self.records: list[Any] = []

    def on_custom_event(self, name: str, data: Any, **kwargs: Any) -> None:
        if name == "zero_llm.usage":
            self.records.append(data)


class AsyncUsageEvents(AsyncCallbackHandler):
    """Collects the zero_llm.usage custom events (an async handler)."""

    def __init__(self) -> None:
        self.records: list[Any] = []

    async def on_custom_event(self, name: str, data: Any, **kwargs: Any) -> None:
        if name == "zero_llm.usage":
            self.records.append(data)


def test_a_parents_configurable_does_not_rewire_a_sub_agent(manager: ModelManager) -> None:
    trader = manager.chat_model(task="trading")
    config = {"configurable": {"task": "quick", "model": "llama", "session_id": "user-42"}}
    answer = trader.invoke("hello there", config=config)  # type: ignore[arg-type]
    assert answer.response_metadata["model_name"] == "deepseek-r1:32b"
    assert manager.history_sync.messages("user-42") == []


def test_zero_llm_prefixed_keys_configure_a_call(manager: ModelManager) -> None:
    chat = manager.chat_model()
    answer = chat.invoke("hello there", config={"configurable": {"zero_llm_task": "code"}})
    assert answer.response_metadata["model_name"] == "qwen2.5-coder:32b"


def test_configurable_fields_keep_the_manager(
    manager: ModelManager, emulator: OllamaEmulator
) -> None:
    chat = manager.chat_model(task="quick").configurable_fields(
        task=ConfigurableField(id="agent_task", name="Agent task")
    )
    answer = chat.invoke("hello there", config={"configurable": {"agent_task": "code"}})
    assert answer.response_metadata["model_name"] == "qwen2.5-coder:32b"
    assert answer.response_metadata["host"] == emulator.base_url  # not 127.0.0.1:11434
    bound = manager.chat_model(task="quick").with_config(tags=["x"])
    assert bound.invoke("hello there").response_metadata["host"] == emulator.base_url


def test_the_usage_event_fires_on_sync_paths(manager: ModelManager) -> None:
    chat = manager.chat_model(task="quick")
    events = UsageEvents()
    chat.invoke("hello there", config={"callbacks": [events]})
    list(chat.stream("hello there", config={"callbacks": [events]}))
    assert [r.model for r in events.records] == ["llama3.1:8b", "llama3.1:8b"]


async def test_the_usage_event_fires_on_async_paths(manager: ModelManager) -> None:
    chat = manager.chat_model(task="quick")
    events = AsyncUsageEvents()
    await chat.ainvoke("hello there", config={"callbacks": [events]})
    _ = [c async for c in chat.astream("hello there", config={"callbacks": [events]})]
    assert [r.model for r in events.records] == ["llama3.1:8b", "llama3.1:8b"]


async def test_the_usage_event_fires_when_langgraph_streams_an_invoke(
    manager: ModelManager,
) -> None:
    """``stream_mode="messages"`` makes LangChain stream inside ``ainvoke`` (no run manager)."""
    agent = create_agent(model=manager.chat_model(task="quick"), tools=[get_price])
    events = AsyncUsageEvents()
    async for _ in agent.astream(
        {"messages": ["what is the price of ticker=NVDA today?"]},
        config={"callbacks": [events]},
        stream_mode="messages",
    ):
        pass
    assert [r.model for r in events.records] == ["llama3.1:8b", "llama3.1:8b"]  # both steps
    sync_events = UsageEvents()
    for _ in agent.stream(
        {"messages": ["what is the price of ticker=AAPL today?"]},
        config={"callbacks": [sync_events]},
        stream_mode="messages",
    ):
        pass
    assert len(sync_events.records) == 2


async def test_astream_events_carry_the_usage_event_and_the_configured_task(
    manager: ModelManager,
) -> None:
    chat = manager.chat_model()
    config = {"configurable": {"zero_llm_task": "code"}}
    events = [e async for e in chat.astream_events("hello there", config=config, version="v2")]  # type: ignore[arg-type]
    usage = [e for e in events if e["event"] == "on_custom_event"]
    assert [e["name"] for e in usage] == ["zero_llm.usage"]
    assert usage[0]["data"].model == "qwen2.5-coder:32b"
    end = next(e for e in events if e["event"] == "on_chat_model_end")
    assert end["data"]["output"].response_metadata["model_name"] == "qwen2.5-coder:32b"


class InvocationParams(AsyncCallbackHandler):
    """Records the invocation parameters LangChain hands every tracer."""

    def __init__(self) -> None:
        self.params: list[dict[str, Any]] = []

    async def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
        self.params.append(kwargs["invocation_params"])


async def test_handlers_stay_out_of_cache_keys_and_traced_parameters(
    manager: ModelManager, emulator: OllamaEmulator
) -> None:
    chat = manager.chat_model(task="quick")
    first, second = InvocationParams(), InvocationParams()
    set_llm_cache(InMemoryCache())
    try:
        one = await chat.ainvoke("cache me", config={"callbacks": [first]})
        two = await chat.ainvoke("cache me", config={"callbacks": [second]})
    finally:
        set_llm_cache(None)
    assert one.text == two.text
    assert len(emulator.requests_to("/api/chat")) == 1  # the second came from the cache
    for params in (*first.params, *second.params):
        assert first not in params.values() and second not in params.values()
        assert "InvocationParams" not in repr(params)


async def test_usage_metadata_sums_every_call_of_a_step(emulator: OllamaEmulator) -> None:
    manager = ModelManager(
        fast_settings(
            emulator.base_url, models={"reasoning": {"tool_policy": "gather_then_answer"}}
        )
    )
    agent = create_agent(model=manager.chat_model(task="trading"), tools=[get_price])
    result = await agent.ainvoke({"messages": ["what is the price of ticker=NVDA today?"]})
    final = result["messages"][-1]
    calls = final.response_metadata["calls"]
    assert len(calls) == 2  # the tool model's look, then deepseek-r1's answer
    assert [c["model"] for c in calls] == ["llama3.1:8b", "deepseek-r1:32b"]
    usage = final.usage_metadata
    assert usage["input_tokens"] == sum(c["input_tokens"] for c in calls)
    assert usage["output_tokens"] == sum(c["output_tokens"] for c in calls)
    assert final.response_metadata["conversation_role"] == "reasoning"


def graph_with(manager: ModelManager, **chat_args: Any) -> Any:
    chat = manager.chat_model(task="quick", **chat_args)

    async def call(state: MessagesState) -> dict[str, Any]:
        return {"messages": [await chat.ainvoke(state["messages"])]}

    graph = StateGraph(MessagesState)
    graph.add_node("model", call)
    graph.add_edge(START, "model")
    return graph.compile(checkpointer=InMemorySaver())


def chat_bodies(emulator: OllamaEmulator) -> list[list[str]]:
    return [
        [m["content"] for m in r.body["messages"]]
        for r in emulator.requests_to("/api/chat")
        if r.body and r.body.get("messages")
    ]


async def test_two_langgraph_threads_never_share_memory(
    manager: ModelManager, emulator: OllamaEmulator
) -> None:
    graph = graph_with(manager, session_id="shared-by-mistake")
    await graph.ainvoke(
        {"messages": [HumanMessage("my password is hunter2")]},
        {"configurable": {"thread_id": "user1"}},
    )
    emulator.clear_requests()
    await graph.ainvoke(
        {"messages": [HumanMessage("hello")]}, {"configurable": {"thread_id": "user2"}}
    )
    (sent,) = chat_bodies(emulator)
    assert sent == ["hello"]
    stored = await manager.history.messages("shared-by-mistake")
    assert [m.content for m in stored if m.role == "human"] == ["my password is hunter2", "hello"]


async def test_a_thread_can_be_its_own_session(
    manager: ModelManager, emulator: OllamaEmulator
) -> None:
    graph = graph_with(manager, session_id="desk", session_from_thread=True)
    await graph.ainvoke({"messages": [HumanMessage("first")]}, {"configurable": {"thread_id": "a"}})
    await graph.ainvoke({"messages": [HumanMessage("other")]}, {"configurable": {"thread_id": "b"}})
    assert (await manager.history.messages("desk:a"))[0].content == "first"
    assert (await manager.history.messages("desk:b"))[0].content == "other"


async def test_hi_then_hi_sends_the_state_once(
    manager: ModelManager, emulator: OllamaEmulator
) -> None:
    graph = graph_with(manager, session_id="hi-hi", session_from_thread=True)
    config = {"configurable": {"thread_id": "t"}}
    for text in ["hi", "how are you", "hi"]:
        emulator.clear_requests()
        state = await graph.ainvoke({"messages": [HumanMessage(text)]}, config)
    (sent,) = chat_bodies(emulator)
    assert len(sent) == len(state["messages"]) - 1 == 5  # the state, each message once


async def test_an_agent_step_keeps_its_conversations_role(manager: ModelManager) -> None:
    chat = manager.chat_model()
    first = AIMessage(
        "", response_metadata={"model_name": "llama3.1:8b", "conversation_role": "reasoning"}
    )
    answer = await chat.ainvoke(
        [HumanMessage("hello"), first, HumanMessage("and now?")]  # a new human message
    )
    assert answer.response_metadata["route"]["method"] != "conversation"
    step = await chat.ainvoke([HumanMessage("hello"), first])  # a step inside the loop
    assert step.response_metadata["model_name"] == "deepseek-r1:32b"
    assert step.response_metadata["route"]["method"] == "conversation"
