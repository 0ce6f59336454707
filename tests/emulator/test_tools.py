"""Tool calling as Ollama does it, through the ollama client, ChatOllama and a LangChain agent."""

from __future__ import annotations

import json
from typing import Any

import httpx
import ollama
import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage
from langchain_core.tools import tool
from langchain_ollama import ChatOllama

from zero_llm.testing import OllamaEmulator
from zero_llm.testing.tools import choose_tool_calls, distinctive_words


def get_weather(city: str) -> str:
    """Get the weather in a city.

    Args:
        city: the city's name.
    """
    return f"It is sunny in {city}."


def convert_price(amount: float, currency: str, rounded: bool = False) -> str:
    """Convert an amount of money.

    Args:
        amount: how much.
        currency: into which currency.
        rounded: whether to round.
    """
    return f"{amount} {currency}"


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


CONVERT_PRICE_SCHEMA = {
    "type": "function",
    "function": {
        "name": "convert_price",
        "description": "Convert an amount of money.",
        "parameters": {
            "type": "object",
            "required": ["amount", "currency"],
            "properties": {
                "amount": {"type": "number"},
                "currency": {"type": "string", "enum": ["EUR", "USD"]},
                "rounded": {"type": "boolean"},
            },
        },
    },
}


def test_the_rule_on_its_own() -> None:
    weather = {"function": {"name": "get_weather", "parameters": {"type": "object"}}}
    assert distinctive_words("get_weather") == ["weather"]
    assert distinctive_words("magic_function_no_args") == ["magic"]
    assert distinctive_words("JokeDict") == ["joke", "dict"]
    calls = choose_tool_calls([weather], user("what is the weather in Paris?"))
    assert [c["function"]["name"] for c in calls] == ["get_weather"]
    assert choose_tool_calls([weather], user("hello")) == []
    assert choose_tool_calls([weather], user("please use the tool")) != []
    assert choose_tool_calls([weather], [*user("weather?"), {"role": "assistant"}]) == []


def test_sync_client_gets_tool_calls_with_arguments_as_objects(emulator: OllamaEmulator) -> None:
    client = ollama.Client(host=emulator.base_url)
    response = client.chat(
        model="llama3.1:8b",
        messages=user('What is the weather in "Zürich"? Then convert_price(12.5, USD).'),
        tools=[get_weather, convert_price],
    )
    calls = response.message.tool_calls or []
    assert [c.function.name for c in calls] == ["get_weather", "convert_price"]
    assert calls[0].function.arguments == {"city": "Zürich"}
    # ollama-python marks every parameter required; one without a value gets its type's value
    assert calls[1].function.arguments == {"amount": 12.5, "currency": "USD", "rounded": True}
    assert response.message.content == "" and response.done_reason == "stop"
    raw = httpx.post(
        emulator.base_url + "/api/chat",
        json={
            "model": "llama3.1:8b",
            "messages": user("amount=3 currency=GBP convert_price please"),
            "tools": [CONVERT_PRICE_SCHEMA],
            "stream": False,
        },
    ).json()
    (call,) = raw["message"]["tool_calls"]
    assert call["function"]["arguments"] == {"amount": 3.0, "currency": "EUR"}  # enum: first
    assert isinstance(call["function"]["arguments"], dict)


async def test_async_client_streams_the_calls_in_one_chunk_before_the_final(
    emulator: OllamaEmulator,
) -> None:
    client = ollama.AsyncClient(host=emulator.base_url)
    parts = [
        p
        async for p in await client.chat(
            model="qwen2.5-coder:32b",
            messages=user("weather in Oslo?"),
            tools=[get_weather],
            stream=True,
        )
    ]
    with_calls = [i for i, p in enumerate(parts) if p.message.tool_calls]
    assert with_calls == [len(parts) - 2] and parts[-1].done
    assert parts[-1].done_reason == "stop" and not parts[-1].message.tool_calls
    (call,) = parts[-2].message.tool_calls or []
    assert call.function.name == "get_weather" and call.function.arguments == {
        "city": "weather in Oslo?"
    }
    assert "".join(p.message.content or "" for p in parts) == ""


def test_tool_results_are_quoted_and_plain_text_otherwise(emulator: OllamaEmulator) -> None:
    client = ollama.Client(host=emulator.base_url)
    history = [
        *user("weather in Oslo?"),
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "Oslo"}}}],
        },
        {"role": "tool", "tool_name": "get_weather", "content": "Snow, \u22123 \u00b0C"},
    ]
    answer = client.chat(model="llama3.1:8b", messages=history, tools=[get_weather])
    assert answer.message.content == "[llama3.1:8b] get_weather returned: Snow, \u22123 \u00b0C"
    assert not answer.message.tool_calls
    plain = client.chat(model="llama3.1:8b", messages=user("hello"), tools=[get_weather])
    assert plain.message.content == "[llama3.1:8b] You said: hello"


@pytest.mark.parametrize("name", ["deepseek-r1:32b", "nomic-embed-text"])
def test_models_without_tools_refuse_them(emulator: OllamaEmulator, name: str) -> None:
    with pytest.raises(ollama.ResponseError) as info:
        ollama.Client(host=emulator.base_url).chat(
            model=name, messages=user("weather?"), tools=[get_weather]
        )
    assert info.value.status_code == 400
    expected = {
        "deepseek-r1:32b": "registry.ollama.ai/library/deepseek-r1:32b does not support tools",
        "nomic-embed-text": '"nomic-embed-text:latest" does not support chat',
    }[name]
    assert info.value.error == expected


def test_bad_tools_and_bad_tool_history_get_400(emulator: OllamaEmulator) -> None:
    url = emulator.base_url + "/api/chat"
    for body in (
        {"tools": "get_weather"},
        {"tools": [{"function": {"description": "no name"}}]},
        {
            "messages": [
                {
                    "role": "assistant",
                    "tool_calls": [{"function": {"name": "f", "arguments": '{"a": 1}'}}],
                }
            ]
        },
    ):
        response = httpx.post(url, json={"model": "llama3.1:8b", "messages": user("x"), **body})
        assert response.status_code == 400 and response.json()["error"], body


def test_json_mode_answers_the_keys_asked_for(emulator: OllamaEmulator) -> None:
    client = ollama.Client(host=emulator.base_url)
    asked = client.chat(
        model="llama3.1:8b",
        messages=user("A joke. Return JSON with 'setup' and 'punchline' keys."),
        format="json",
    )
    value = json.loads(asked.message.content or "")
    assert set(value) == {"setup", "punchline"} and all(isinstance(v, str) for v in value.values())
    free = json.loads(
        client.chat(model="llama3.1:8b", messages=user("hi"), format="json").message.content or ""
    )
    assert isinstance(free, dict) and free


@tool
def lookup_ticker(symbol: str) -> str:
    """Look up the last price of a ticker symbol."""
    return f"{symbol} last traded at 512.25"


def test_chat_ollama_bind_tools_round_trip(emulator: OllamaEmulator) -> None:
    llm = ChatOllama(model="llama3.1:8b", base_url=emulator.base_url).bind_tools([lookup_ticker])
    question = HumanMessage("What does the ticker 'SPY' trade at?")
    called = llm.invoke([question])
    assert isinstance(called, AIMessage) and called.content == ""
    (call,) = called.tool_calls
    assert call["name"] == "lookup_ticker" and call["args"] == {"symbol": "SPY"} and call["id"]
    result = lookup_ticker.invoke(call)
    assert isinstance(result, ToolMessage)
    answer = llm.invoke([question, called, result])
    assert answer.content == "[llama3.1:8b] lookup_ticker returned: SPY last traded at 512.25"
    chunks = list(llm.stream([question]))
    assert any(isinstance(c, AIMessageChunk) and c.tool_call_chunks for c in chunks)
    merged = chunks[0]
    for c in chunks[1:]:
        merged = merged + c
    assert [tc["name"] for tc in merged.tool_calls] == ["lookup_ticker"]
    streamed_answer = "".join(str(c.content) for c in llm.stream([question, called, result]))
    assert streamed_answer == answer.content


async def test_chat_ollama_async_round_trip(emulator: OllamaEmulator) -> None:
    llm = ChatOllama(model="qwen2.5-coder:32b", base_url=emulator.base_url)
    bound = llm.bind_tools([lookup_ticker])
    called = await bound.ainvoke("lookup_ticker for 'NVDA'")
    assert called.tool_calls[0]["args"] == {"symbol": "NVDA"}
    chunks = [c async for c in bound.astream("ticker 'MSFT'")]
    assert any(c.tool_call_chunks for c in chunks)
    thinker = ChatOllama(model="deepseek-r1:32b", base_url=emulator.base_url)
    with pytest.raises(ollama.ResponseError) as info:
        await thinker.bind_tools([lookup_ticker]).ainvoke("ticker 'SPY'")
    assert "does not support tools" in info.value.error


def test_an_agent_really_calls_a_tool(emulator: OllamaEmulator) -> None:
    calls: list[str] = []

    @tool
    def get_weather(city: str) -> str:
        """Get the current weather in a city."""
        calls.append(city)
        return f"Sunny and 21 degrees in {city}."

    agent = create_agent(
        model=ChatOllama(model="llama3.1:8b", base_url=emulator.base_url), tools=[get_weather]
    )
    result = agent.invoke({"messages": [HumanMessage("What is the weather in 'Paris'?")]})
    messages = result["messages"]
    assert calls == ["Paris"]
    assert [type(m).__name__ for m in messages] == [
        "HumanMessage",
        "AIMessage",
        "ToolMessage",
        "AIMessage",
    ]
    assert (
        messages[-1].content == "[llama3.1:8b] get_weather returned: Sunny and 21 degrees in Paris."
    )
