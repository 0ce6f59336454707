"""ZERO's agents as LangChain documents them, with ``mm.chat_model()`` as the model.

``langchain.agents.create_agent`` loops against the emulator, whose tool-call rule is
deterministic: a tool is called when a distinctive word of its name is in the user's
text, with ``param=value`` pairs as its arguments; a tool result is quoted back.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage
from langchain_core.tools import tool

from tests.conftest import fast_settings
from zero_llm import ModelManager
from zero_llm.testing import OllamaEmulator

QUESTION = "what is the price of ticker=NVDA today?"


@tool
def get_price(ticker: str) -> str:
    """The last traded price of a stock ticker."""
    return f"{ticker} last traded at 123.45"


@tool
def get_weather(city: str) -> str:
    """Today's weather in a city."""
    raise ValueError(f"the weather service is down for {city}")


def _messages(result: dict[str, Any]) -> list[Any]:
    return list(result["messages"])


def _assert_one_loop(messages: list[Any]) -> tuple[AIMessage, ToolMessage, AIMessage]:
    assert [type(m) for m in messages] == [HumanMessage, AIMessage, ToolMessage, AIMessage]
    call, result, final = messages[1], messages[2], messages[3]
    assert call.tool_calls[0]["name"] == "get_price"
    assert call.tool_calls[0]["args"] == {"ticker": "NVDA"}
    assert result.content == "NVDA last traded at 123.45"
    assert "NVDA last traded at 123.45" in str(final.content)
    return call, result, final


def test_agent_loop_sync(manager: ModelManager) -> None:
    agent = create_agent(model=manager.chat_model(task="quick"), tools=[get_price])
    call, _, final = _assert_one_loop(_messages(agent.invoke({"messages": [QUESTION]})))
    assert call.response_metadata["model_name"] == "llama3.1:8b"
    assert final.response_metadata["model_name"] == "llama3.1:8b"


async def test_agent_loop_async(manager: ModelManager) -> None:
    agent = create_agent(model=manager.chat_model(task="code"), tools=[get_price])
    result = await agent.ainvoke({"messages": [QUESTION]})
    _, _, final = _assert_one_loop(_messages(result))
    assert final.response_metadata["model_name"] == "qwen2.5-coder:32b"


async def test_a_routed_trading_agent_is_answered_by_r1_from_first_step_to_last(
    manager: ModelManager, emulator: OllamaEmulator
) -> None:
    agent = create_agent(model=manager.chat_model(), tools=[get_price])  # routed
    question = "Should I buy NVDA after earnings? check the price with ticker=NVDA"
    call, _, final = _assert_one_loop(_messages(await agent.ainvoke({"messages": [question]})))
    assert call.tool_calls[0]["name"] == "get_price"
    assert call.tool_calls[0]["args"] == {"ticker": "NVDA"}
    for step in (call, final):
        assert step.response_metadata["model_name"] == "deepseek-r1:32b"
        assert step.response_metadata["conversation_role"] == "reasoning"
        assert step.response_metadata["tool_calling"] == "structured"
        assert step.additional_kwargs.get("reasoning_content")  # thinking kept apart
    assert "123.45" in str(final.content)
    bodies = [r.body for r in emulator.requests_to("/api/chat") if r.body]
    assert [b["model"] for b in bodies] == ["deepseek-r1:32b", "deepseek-r1:32b"]
    assert all(not b.get("tools") and b.get("format") for b in bodies)
    assert emulator.state.rejected == []  # deepseek-r1 was never sent tools
    await manager.flush_usage()
    records = await manager.usage.records()
    assert [r.model for r in records] == ["deepseek-r1:32b", "deepseek-r1:32b"]


async def test_trading_agent_gathers_on_the_tool_model_and_answers_with_r1(
    emulator: OllamaEmulator,
) -> None:
    manager = ModelManager(
        fast_settings(
            emulator.base_url, models={"reasoning": {"tool_policy": "gather_then_answer"}}
        )
    )
    agent = create_agent(model=manager.chat_model(task="trading"), tools=[get_price])
    call, _, final = _assert_one_loop(_messages(await agent.ainvoke({"messages": [QUESTION]})))
    assert call.response_metadata["model_name"] == "llama3.1:8b"
    assert call.response_metadata["tool_model"] == "llama3.1:8b"
    assert final.response_metadata["model_name"] == "deepseek-r1:32b"
    assert final.additional_kwargs.get("reasoning_content")
    with_tools = [
        r.body for r in emulator.requests_to("/api/chat") if r.body and r.body.get("tools")
    ]
    assert with_tools and {b["model"] for b in with_tools} == {"llama3.1:8b"}
    assert emulator.state.rejected == []  # deepseek-r1 was never sent tools
    # Three model calls, three usage records: the tool call, the tool model's look that
    # found nothing more to call, and deepseek-r1's answer; each with its own tokens.
    await manager.flush_usage()
    records = await manager.usage.records()
    assert [r.model for r in records] == ["llama3.1:8b", "llama3.1:8b", "deepseek-r1:32b"]
    assert len({r.request_id for r in records}) == 3
    assert all(r.prompt_tokens and r.output_tokens for r in records)


async def test_trading_agent_on_the_tool_model_policy(emulator: OllamaEmulator) -> None:
    manager = ModelManager(
        fast_settings(emulator.base_url, models={"reasoning": {"tool_policy": "tool_model"}})
    )
    agent = create_agent(model=manager.chat_model(task="trading"), tools=[get_price])
    _, _, final = _assert_one_loop(_messages(await agent.ainvoke({"messages": [QUESTION]})))
    assert final.response_metadata["model_name"] == "llama3.1:8b"


async def test_agent_streams_messages(manager: ModelManager) -> None:
    agent = create_agent(model=manager.chat_model(task="quick"), tools=[get_price])
    chunks = [
        chunk
        async for chunk, _meta in agent.astream({"messages": [QUESTION]}, stream_mode="messages")
    ]
    model_chunks = [c for c in chunks if isinstance(c, AIMessageChunk)]
    assert any(c.tool_call_chunks for c in model_chunks)
    text = "".join(str(c.content) for c in model_chunks)
    assert "NVDA last traded at 123.45" in text
    assert any(isinstance(c, ToolMessage) for c in chunks)


def test_agent_streams_messages_sync(manager: ModelManager) -> None:
    agent = create_agent(model=manager.chat_model(task="quick"), tools=[get_price])
    chunks = [c for c, _ in agent.stream({"messages": [QUESTION]}, stream_mode="messages")]
    assert any(isinstance(c, AIMessageChunk) and c.tool_call_chunks for c in chunks)


async def test_a_tool_that_raises_is_reported_back_to_the_model(manager: ModelManager) -> None:
    agent = create_agent(model=manager.chat_model(task="quick"), tools=[get_weather])
    try:
        result = await agent.ainvoke({"messages": ["what is the weather in city=Paris?"]})
    except ValueError as exc:  # LangChain's default: the tool's error propagates
        assert "weather service is down" in str(exc)
        return
    tool_result = next(m for m in result["messages"] if isinstance(m, ToolMessage))
    assert tool_result.status == "error" and "weather service is down" in str(tool_result.content)
    assert "weather service is down" in str(result["messages"][-1].content)


async def test_retries_and_fallbacks_hold_inside_the_loop(emulator: OllamaEmulator) -> None:
    emulator.set_present("deepseek-r1:32b", False)
    manager = ModelManager(fast_settings(emulator.base_url, auto_pull=False))
    agent = create_agent(model=manager.chat_model(task="trading"), tools=[get_price])
    emulator.faults.busy_next(times=1)
    result = await agent.ainvoke({"messages": [QUESTION]})
    call, _, final = _assert_one_loop(_messages(result))
    assert call.response_metadata["retries"], "the busy answer was retried"
    assert final.response_metadata["model_name"] == "llama3.1:8b"
    assert final.response_metadata["fallback_note"].startswith(
        "answered by llama3.1:8b instead of deepseek-r1:32b"
    )


@pytest.mark.parametrize("session", ["agent-session"])
async def test_an_agent_bound_to_a_session_stores_each_turn_once(
    manager: ModelManager, session: str
) -> None:
    agent = create_agent(
        model=manager.chat_model(task="quick", session_id=session), tools=[get_price]
    )
    await agent.ainvoke({"messages": [QUESTION]})
    stored = await manager.history.messages(session)
    assert [m.role for m in stored] == ["human", "ai", "tool", "ai"]
    assert stored[2].content == "NVDA last traded at 123.45"


async def test_every_step_of_an_agent_loop_sees_the_sessions_earlier_turns(
    manager: ModelManager, emulator: OllamaEmulator
) -> None:
    session = "dana"
    await manager.ask("My name is Dana and I trade semiconductors.", session_id=session)
    agent = create_agent(
        model=manager.chat_model(task="quick", session_id=session), tools=[get_price]
    )
    emulator.clear_requests()
    await agent.ainvoke({"messages": [QUESTION]})
    steps = [r.body for r in emulator.requests_to("/api/chat") if r.body and r.body["messages"]]
    assert len(steps) == 2  # the tool call, then the answer from the tool result
    for body in steps:
        contents = [m.get("content") for m in body["messages"]]
        # The earlier turn comes first, once; the loop's own messages follow, once each.
        assert contents[0] == "My name is Dana and I trade semiconductors."
        assert contents.count(QUESTION) == 1
    stored = await manager.history.messages(session)
    assert [m.role for m in stored] == ["human", "ai", "human", "ai", "tool", "ai"]


async def test_a_checkpointers_whole_conversation_gets_nothing_added(
    manager: ModelManager, emulator: OllamaEmulator
) -> None:
    await manager.ask("an earlier question", session_id="cp")
    chat = manager.chat_model(task="quick", session_id="cp")
    emulator.clear_requests()
    await chat.ainvoke(
        [HumanMessage("their first"), AIMessage("their answer"), HumanMessage("and now?")]
    )
    (body,) = [r.body for r in emulator.requests_to("/api/chat") if r.body]
    assert [m["content"] for m in body["messages"]] == ["their first", "their answer", "and now?"]
