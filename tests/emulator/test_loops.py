"""The emulator plays real agent loops: further tool rounds, enum arguments, schema answers."""

from __future__ import annotations

import json
from typing import Any, Literal

import jsonschema
import ollama
import pytest
from langchain.agents import create_agent
from langchain.agents.structured_output import ToolStrategy
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import tool
from langchain_ollama import ChatOllama
from pydantic import BaseModel

from zero_llm.testing import OllamaEmulator
from zero_llm.testing.schema_values import instance_of_schema
from zero_llm.testing.tools import choose_tool_calls


def function(name: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": name,
            "parameters": {"type": "object", "properties": properties, "required": required},
        },
    }


PRICE = function("get_price", {"ticker": {"type": "string"}}, ["ticker"])
NEWS = function("get_news", {"ticker": {"type": "string"}}, ["ticker"])
SIGNAL = function(
    "record_signal",
    {"signal": {"type": "string", "enum": ["buy", "sell", "hold"]}, "note": {"type": "string"}},
    ["signal", "note"],
)


def call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"function": {"name": name, "arguments": arguments}}


def test_a_tool_result_naming_an_uncalled_tool_leads_to_a_second_round() -> None:
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "How is ticker=AAPL, please? use get_price"},
        {"role": "assistant", "content": "", "tool_calls": [call("get_price", ticker="AAPL")]},
        {
            "role": "tool",
            "content": "187.44; for the story call get_news",
            "tool_name": "get_price",
        },
    ]
    (second,) = choose_tool_calls([PRICE, NEWS], messages)
    assert second["function"]["name"] == "get_news"
    assert second["function"]["arguments"] == {"ticker": "AAPL"}
    messages += [
        {"role": "assistant", "content": "", "tool_calls": [second]},
        {"role": "tool", "content": "Apple up; get_price rose", "tool_name": "get_news"},
    ]
    assert choose_tool_calls([PRICE, NEWS], messages) == []  # both called: the loop ends


def test_an_enum_argument_comes_from_its_enum() -> None:
    named = choose_tool_calls(
        [SIGNAL], [{"role": "user", "content": "record_signal: I'd 'SELL' now"}]
    )
    assert named[0]["function"]["arguments"]["signal"] == "sell"
    unnamed = choose_tool_calls([SIGNAL], [{"role": "user", "content": "record_signal 'soon'"}])
    assert unnamed[0]["function"]["arguments"] == {"signal": "buy", "note": "soon"}


def test_a_langchain_agent_runs_two_tool_rounds(emulator: OllamaEmulator) -> None:
    @tool
    def get_price(ticker: str) -> str:
        """Latest price of a ticker."""
        return f"{ticker} trades at 187.44; call get_news for why"

    @tool
    def get_news(ticker: str) -> str:
        """Latest news about a ticker."""
        return f"{ticker}: record quarter"

    model = ChatOllama(model="llama3.1:8b", base_url=emulator.base_url)
    agent = create_agent(model=model, tools=[get_price, get_news])
    result = agent.invoke({"messages": [("user", "What moves ticker=AAPL? use get_price")]})
    tools_run = [m.name for m in result["messages"] if isinstance(m, ToolMessage)]
    assert tools_run == ["get_price", "get_news"]
    final = result["messages"][-1]
    assert isinstance(final, AIMessage) and not final.tool_calls
    assert "record quarter" in str(final.content)


SCHEMAS: list[dict[str, Any]] = [
    {
        "type": "object",
        "properties": {
            "stance": {"type": "string", "enum": ["bullish", "bearish"]},
            "confidence": {"type": "number", "minimum": 0, "exclusiveMaximum": 1},
            "horizon_days": {"type": "integer", "minimum": 1, "maximum": 30, "multipleOf": 7},
            "tickers": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 3},
            "risk": {"$ref": "#/$defs/Risk"},
            "note": {"anyOf": [{"type": "string", "maxLength": 5}, {"type": "null"}]},
            "when": {"type": "string", "format": "date-time"},
            "code": {"type": "string", "minLength": 12},
        },
        "required": ["stance", "confidence", "horizon_days", "tickers", "risk", "extra"],
        "$defs": {
            "Risk": {
                "type": "object",
                "properties": {"level": {"type": ["integer", "null"]}, "ok": {"type": "boolean"}},
                "required": ["level", "ok"],
                "additionalProperties": False,
            }
        },
    },
    {
        "allOf": [
            {"type": "object", "properties": {"a": {"const": 3}}, "required": ["a"]},
            {"properties": {"b": {"type": "array", "items": {"enum": [True]}}}, "required": ["b"]},
        ]
    },
]


@pytest.mark.parametrize("schema", SCHEMAS)
def test_schema_instances_validate(schema: dict[str, Any]) -> None:
    jsonschema.validate(instance_of_schema(schema, "Is the market bullish today?"), schema)


def test_structured_output_on_a_thinking_model_constrains_only_the_content(
    emulator: OllamaEmulator,
) -> None:
    response = ollama.Client(host=emulator.base_url).chat(
        model="deepseek-r1:32b",
        messages=[{"role": "user", "content": "Rate the market today."}],
        format=SCHEMAS[0],
        think=True,
    )
    assert response.message.thinking
    jsonschema.validate(json.loads(response.message.content or ""), SCHEMAS[0])


TOOL_OR_ANSWER = {
    "anyOf": [
        {
            "type": "object",
            "properties": {
                "tool_calls": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "properties": {
                            "name": {"enum": ["get_price", "get_news"]},
                            "arguments": {"type": "object"},
                        },
                        "required": ["name", "arguments"],
                    },
                }
            },
            "required": ["tool_calls"],
        },
        {
            "type": "object",
            "properties": {"final_answer": {"type": "string"}},
            "required": ["final_answer"],
        },
    ]
}


def test_a_tool_or_answer_schema_calls_the_named_tool_then_answers(
    emulator: OllamaEmulator,
) -> None:
    client = ollama.Client(host=emulator.base_url)

    def ask(messages: list[dict[str, Any]]) -> dict[str, Any]:
        response = client.chat(model="deepseek-r1:32b", messages=messages, format=TOOL_OR_ANSWER)
        value: dict[str, Any] = json.loads(response.message.content or "")
        jsonschema.validate(value, TOOL_OR_ANSWER)
        return value

    task = {"role": "user", "content": "Why is AAPL moving? use get_news"}
    assert ask([task])["tool_calls"][0]["name"] == "get_news"
    assert "final_answer" in ask([{"role": "user", "content": "How are you?"}])
    result = {"role": "tool", "content": "AAPL: record quarter", "tool_name": "get_news"}
    assert "final_answer" in ask([task, {"role": "assistant", "content": "{}"}, result])


class TradeSignal(BaseModel):
    """A trading signal."""

    signal: Literal["buy", "sell", "hold"]
    ticker: str


def test_a_tool_strategy_agent_gets_a_valid_structured_response(
    emulator: OllamaEmulator,
) -> None:
    model = ChatOllama(model="qwen2.5-coder:32b", base_url=emulator.base_url)
    agent = create_agent(model=model, tools=[], response_format=ToolStrategy(TradeSignal))
    result = agent.invoke({"messages": [("user", "A trade signal for 'AAPL': hold or sell?")]})
    assert result["structured_response"] == TradeSignal(signal="hold", ticker="AAPL")
    assert len(result["messages"]) == 3  # the question, the call, its tool message: no retries
