"""Agent scenarios as ZERO runs them, each asserting who wrote each step and what was sent.

Against the emulator (which counts prompts and refuses overflows by its own code), with
LangChain's ``create_agent``: a coding agent that outgrows qwen's window, a pinned
model, ``tool_choice``, a supervisor with two sub-agents under a parent configuration,
structured extraction on each model, and fifty agents at once.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

import pytest
from langchain.agents import create_agent
from langchain.agents.structured_output import ProviderStrategy, ToolStrategy
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import tool
from pydantic import BaseModel

from zero_llm import ModelManager
from zero_llm.testing import OllamaEmulator

CODE_LINE = "    total = sum(row.amount for row in ledger if row.settled)  # settle\n"


@tool
def get_price(ticker: str) -> str:
    """The last traded price of a stock ticker."""
    return f"{ticker} last traded at 123.45"


@tool
def read_file(path: str) -> str:
    """The text of a source file."""
    return f"# {path}\n" + CODE_LINE * 40


class TradeSignal(BaseModel):
    """A trading signal."""

    ticker: str
    action: Literal["buy", "sell", "hold"]


def chat_bodies(emulator: OllamaEmulator) -> list[dict[str, Any]]:
    return [r.body for r in emulator.requests_to("/api/chat") if r.body and r.body.get("messages")]


def coding_conversation(rounds: int, lines: int) -> list[Any]:
    messages: list[Any] = [
        SystemMessage("You are ZERO's coding agent."),
        HumanMessage("Find why settlement double-books trades and fix it."),
    ]
    for i in range(rounds):
        messages.append(
            AIMessage(
                "", tool_calls=[{"name": "read_file", "args": {"path": f"m{i}.py"}, "id": f"r{i}"}]
            )
        )
        messages.append(ToolMessage(f"# m{i}.py\n" + CODE_LINE * lines, tool_call_id=f"r{i}"))
    return messages


def test_four_nine_k_tool_results_keep_the_task_and_whole_rounds(
    manager: ModelManager, emulator: OllamaEmulator
) -> None:
    chat = manager.chat_model(model="qwen2.5-coder:32b").bind_tools([read_file])
    messages = coding_conversation(4, 560)  # about 9K tokens per result, 36K in all
    answer = chat.invoke(messages)
    meta = answer.response_metadata
    assert meta["model_name"] == "qwen2.5-coder:32b" and not meta["fallbacks"]  # no fallback
    assert meta["dropped_rounds"] >= 1 and meta["dropped_messages"] == 2 * meta["dropped_rounds"]
    (body,) = chat_bodies(emulator)
    roles = [m["role"] for m in body["messages"]]
    assert body["messages"][1]["content"] == messages[1].content  # the task is there
    assert roles[:2] == ["system", "user"]
    assert roles[2:] == ["assistant", "tool"] * (len(roles[2:]) // 2)  # whole rounds only
    assert body["messages"][-1]["content"] == messages[-1].content  # the newest round kept
    assert meta["prompt_tokens"] == meta["prompt_tokens_counted"] <= 32768  # Ollama agrees


def test_an_oversized_tool_result_is_cut_in_the_middle_not_failed(
    manager: ModelManager, emulator: OllamaEmulator
) -> None:
    chat = manager.chat_model(model="qwen2.5-coder:32b").bind_tools([read_file])
    messages = coding_conversation(1, 27_000)  # one result of about 440K tokens
    answer = chat.invoke(messages)
    meta = answer.response_metadata
    assert meta["model_name"] == "qwen2.5-coder:32b" and not meta["fallbacks"]
    assert meta["cut_messages"] == 1
    (body,) = chat_bodies(emulator)
    result = body["messages"][-1]["content"]
    original = messages[-1].content
    assert "tokens of this tool result were cut here" in result
    head, _, rest = result.partition("\n[... ")
    assert original.startswith(head) and original.endswith(rest.split("...]\n", 1)[1])
    assert meta["prompt_tokens"] == meta["prompt_tokens_counted"] <= 32768  # Ollama agrees


async def test_a_pinned_model_answers_every_step(
    manager: ModelManager, emulator: OllamaEmulator
) -> None:
    agent = create_agent(model=manager.chat_model(model="deepseek-r1:32b"), tools=[get_price])
    result = await agent.ainvoke({"messages": ["what is the price of ticker=NVDA?"]})
    steps = [m for m in result["messages"] if isinstance(m, AIMessage)]
    assert len(steps) == 2 and steps[0].tool_calls
    assert {m.response_metadata["model_name"] for m in steps} == {"deepseek-r1:32b"}
    assert {b["model"] for b in chat_bodies(emulator)} == {"deepseek-r1:32b"}


def test_tool_choice_is_honoured(manager: ModelManager, emulator: OllamaEmulator) -> None:
    chat = manager.chat_model(model="llama3.1:8b")
    forced = chat.bind_tools([get_price], tool_choice="get_price").invoke("hello there")
    assert forced.tool_calls and forced.tool_calls[0]["name"] == "get_price"
    assert forced.response_metadata["tool_calling"] == "structured"
    emulator.clear_requests()
    never = chat.bind_tools([get_price], tool_choice="none").invoke("the price of NVDA?")
    assert not never.tool_calls
    (body,) = chat_bodies(emulator)
    assert not body.get("tools") and not body.get("format")
    with pytest.raises(ValueError, match="names no bound tool"):
        chat.bind_tools([get_price], tool_choice="get_news").invoke("hi")


async def test_a_supervisors_configuration_does_not_rewire_its_sub_agents(
    manager: ModelManager, emulator: OllamaEmulator
) -> None:
    trader = create_agent(model=manager.chat_model(task="trading"), tools=[get_price])
    coder = create_agent(model=manager.chat_model(task="code"), tools=[read_file])

    @tool
    async def ask_trader(question: str) -> str:
        """Ask the trading analyst."""
        result = await trader.ainvoke({"messages": [question]})
        return str(result["messages"][-1].content)

    @tool
    async def ask_coder(question: str) -> str:
        """Ask the coding agent."""
        result = await coder.ainvoke({"messages": [question]})
        return str(result["messages"][-1].content)

    supervisor = create_agent(model=manager.chat_model(task="quick"), tools=[ask_trader, ask_coder])
    config = {"configurable": {"task": "quick", "model": "llama", "session_id": "user-42"}}
    result = await supervisor.ainvoke(
        {"messages": ["use ask_trader with question=NVDA and ask_coder with question=bug"]},
        config,  # type: ignore[arg-type]
    )
    assert isinstance(result["messages"][-1], AIMessage)
    models = [b["model"] for b in chat_bodies(emulator)]
    assert "deepseek-r1:32b" in models and "qwen2.5-coder:32b" in models
    assert await manager.history.messages("user-42") == []


@pytest.mark.parametrize("model", ["llama3.1:8b", "qwen2.5-coder:32b", "deepseek-r1:32b"])
@pytest.mark.parametrize("method", ["json_schema", "function_calling"])
async def test_structured_extraction_on_each_model(
    manager: ModelManager, model: str, method: str
) -> None:
    chat = manager.chat_model(model=model)
    signal = await chat.with_structured_output(TradeSignal, method=method).ainvoke(  # type: ignore[arg-type]
        "Extract the signal: ticker=NVDA action=buy"
    )
    assert signal == TradeSignal(ticker="NVDA", action="buy")


@pytest.mark.parametrize("model", ["llama3.1:8b", "qwen2.5-coder:32b", "deepseek-r1:32b"])
@pytest.mark.parametrize("strategy", [ProviderStrategy, ToolStrategy])
async def test_agents_with_a_response_format_on_each_model(
    manager: ModelManager, model: str, strategy: type
) -> None:
    agent = create_agent(
        model=manager.chat_model(model=model),
        tools=[get_price],
        response_format=strategy(TradeSignal),
    )
    result = await agent.ainvoke({"messages": ["ticker=NVDA action=hold, no tools needed"]})
    assert result["structured_response"] == TradeSignal(ticker="NVDA", action="hold")


async def test_fifty_agents_at_once(manager: ModelManager) -> None:
    agent = create_agent(model=manager.chat_model(task="quick"), tools=[get_price])

    async def one(i: int) -> Any:
        return await agent.ainvoke({"messages": [f"what is the price of ticker=T{i} now"]})

    results = await asyncio.gather(*(one(i) for i in range(50)))
    for i, result in enumerate(results):
        tool_result = next(m for m in result["messages"] if isinstance(m, ToolMessage))
        assert tool_result.content == f"T{i} last traded at 123.45"
        assert f"T{i}" in str(result["messages"][-1].content)


@tool
def get_news(ticker: str) -> str:
    """Today's news about a ticker."""
    return f"{ticker}: record data-center sales; see get_options for positioning"


@tool
def get_options(ticker: str) -> str:
    """The options market's positioning on a ticker."""
    return f"{ticker}: call skew rising"


@tool
def get_quote(ticker: str) -> str:
    """The last traded price of a stock ticker, and where to read more."""
    return f"{ticker} last traded at 123.45; see get_news for why"


@pytest.mark.parametrize("pinned", [False, True])
async def test_a_trading_analyst_over_three_rounds(
    manager: ModelManager, emulator: OllamaEmulator, pinned: bool
) -> None:
    chat = manager.chat_model(model="deepseek-r1:32b") if pinned else manager.chat_model()
    agent = create_agent(model=chat, tools=[get_quote, get_news, get_options])
    question = "Should I buy NVDA after earnings? check the quote with ticker=NVDA"
    result = await agent.ainvoke({"messages": [question]})
    steps = [m for m in result["messages"] if isinstance(m, AIMessage)]
    called = [c["name"] for m in steps for c in m.tool_calls]
    assert called == ["get_quote", "get_news", "get_options"]  # three rounds, in order
    assert not steps[-1].tool_calls and "NVDA" in str(steps[-1].content)
    assert {m.response_metadata["model_name"] for m in steps} == {"deepseek-r1:32b"}
    assert all(m.response_metadata["conversation_role"] == "reasoning" for m in steps)
    bodies = chat_bodies(emulator)
    assert len(bodies) == 4 and {b["model"] for b in bodies} == {"deepseek-r1:32b"}
    assert all(not b.get("tools") for b in bodies)  # tools through format, never natively
    # every step sent the task and every earlier round, whole
    for body, rounds in zip(bodies, range(4), strict=True):
        texts = [m["content"] for m in body["messages"]]
        assert question in texts
        assert sum(t.startswith("[tool result]") for t in texts) == rounds
    total = sum(m.usage_metadata["total_tokens"] for m in steps if m.usage_metadata)
    await manager.flush_usage()
    records = await manager.usage.records()
    assert total == sum(r.prompt_tokens + r.output_tokens for r in records)
