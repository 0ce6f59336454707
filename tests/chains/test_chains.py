"""ZERO's ready chains against the emulator, invalid structured output included."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, HumanMessage

from zero_llm import ModelManager, StructuredOutputError
from zero_llm.chains import code, quick, summarizer, trading
from zero_llm.testing import OllamaEmulator


async def test_trading_view_is_structured_and_validated(
    manager: ModelManager, emulator: OllamaEmulator
) -> None:
    view = await trading.build(manager).ainvoke({"question": "Is $NVDA a buy?", "context": "Swing"})
    assert isinstance(view, trading.TradingView)
    assert view.stance in ("bullish", "bearish", "neutral") and 0 <= view.confidence <= 1
    assert view.risks
    body = emulator.requests_to("/api/chat")[-1].body
    assert body is not None and body["model"] == "deepseek-r1:32b"
    assert body["format"]["properties"]["stance"]["enum"] == ["bullish", "bearish", "neutral"]
    assert body["messages"][0]["content"].startswith("You are ZERO's trading analyst")


def test_trading_repairs_one_invalid_answer(
    manager: ModelManager, emulator: OllamaEmulator
) -> None:
    emulator.faults.invalid_json_next(1)
    view = trading.build(manager).invoke("Should I short $TSLA?")
    assert isinstance(view, trading.TradingView)
    repair = emulator.requests_to("/api/chat")[-1].body
    assert repair is not None and "was not valid JSON" in repair["messages"][-1]["content"]


async def test_trading_gives_up_after_the_repair(
    manager: ModelManager, emulator: OllamaEmulator
) -> None:
    emulator.faults.invalid_json_next(2)
    with pytest.raises(StructuredOutputError, match="repair") as info:
        await trading.build(manager).ainvoke("Should I short $TSLA?")
    assert "{stance: bullish" in info.value.raw
    assert len(emulator.requests_to("/api/chat")) == 2


async def test_code_generate_and_review(manager: ModelManager, emulator: OllamaEmulator) -> None:
    answer = await code.build(manager).ainvoke({"request": "a function that merges dicts"})
    assert answer == "[qwen2.5-coder:32b] You said: a function that merges dicts"
    review = await code.build(manager, mode="review").ainvoke(
        {"code": "def f(x): return x/0", "focus": "errors"}
    )
    assert review.startswith("[qwen2.5-coder:32b] You said: Review this code (focus: errors)")
    body = emulator.requests_to("/api/chat")[-1].body
    assert body is not None and "code reviewer" in body["messages"][0]["content"]
    with pytest.raises(ValueError, match="mode"):
        code.build(manager, mode="golf")  # type: ignore[arg-type]


def test_quick_answer_and_streaming(manager: ModelManager) -> None:
    chain = quick.build(manager)
    assert chain.invoke("What is 2+2?") == "[llama3.1:8b] You said: What is 2+2?"
    assert "".join(chain.stream({"question": "stream it"})) == "[llama3.1:8b] You said: stream it"


async def test_summarizer(manager: ModelManager, emulator: OllamaEmulator) -> None:
    emulator.set_reply("Dana asked about NVDA; the answer was to wait.", model="llama3.1:8b")
    summary = await summarizer.build(manager).ainvoke(
        [HumanMessage("Should I buy NVDA?"), AIMessage("Wait for earnings.")]
    )
    assert summary == "Dana asked about NVDA; the answer was to wait."
    body = emulator.requests_to("/api/chat")[-1].body
    assert body is not None
    assert body["messages"][1]["content"] == "human: Should I buy NVDA?\nai: Wait for earnings."
