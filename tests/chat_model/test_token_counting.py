"""Token counting on the chat model and the manager, and options checked before sending."""

from __future__ import annotations

import ollama
import pytest
from langchain_core.messages import (
    AIMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
    trim_messages,
)
from langchain_core.tools import tool

from zero_llm import InvalidRequestError, ModelManager
from zero_llm.errors import OllamaRequestError
from zero_llm.ollama.options import check_options, check_stop
from zero_llm.ollama.translate import translate_error
from zero_llm.testing import OllamaEmulator


@tool
def get_price(ticker: str) -> str:
    """The last price of a stock ticker."""
    return f"{ticker}: 123.45"


def conversation(turns: int) -> list:  # type: ignore[type-arg]
    messages: list = [SystemMessage("You are ZERO.")]  # type: ignore[type-arg]
    for i in range(turns):
        messages += [HumanMessage(f"question {i} " + "word " * 50), AIMessage(f"answer {i}")]
    return [*messages, HumanMessage("the last question")]


def test_trim_messages_takes_the_chat_model_as_its_counter(
    manager: ModelManager, emulator: OllamaEmulator
) -> None:
    chat = manager.chat_model(model="qwen2.5-coder:32b")
    messages = conversation(30)
    whole = chat.get_num_tokens_from_messages(messages)
    assert whole == manager.count_tokens_sync(messages, model="qwen2.5-coder:32b")
    shows = len(emulator.requests_to("/api/show"))
    trimmed = trim_messages(
        messages, token_counter=chat, max_tokens=whole // 3, strategy="last", include_system=True
    )
    assert len(emulator.requests_to("/api/show")) == shows  # offline once the facts are known
    assert trimmed[0] == messages[0] and trimmed[-1] == messages[-1]
    assert chat.get_num_tokens_from_messages(trimmed) <= whole // 3 < whole


def test_tools_count_in_the_prompt(manager: ModelManager) -> None:
    chat = manager.chat_model(model="llama3.1:8b")
    question = [HumanMessage("price of NVDA?")]
    bare = chat.get_num_tokens_from_messages(question)
    with_tools = chat.get_num_tokens_from_messages(question, tools=[get_price])
    assert with_tools > bare + 20
    assert chat.get_num_tokens("hello world") == 2  # Llama 3: "hello", " world"


async def test_the_count_follows_the_model_a_call_would_go_to(manager: ModelManager) -> None:
    text = "def merge(a, b):\n    return sorted(a + b)\n# why is this slow?"
    routed = await manager.count_tokens([HumanMessage(text)])
    as_code = await manager.count_tokens([HumanMessage(text)], task="code")
    assert routed == as_code  # the router sends code to qwen2.5-coder
    assert await manager.count_tokens(text, model="llama") != as_code  # another template


def test_stop_is_one_sequence_when_given_as_a_string(
    manager: ModelManager, emulator: OllamaEmulator
) -> None:
    manager.chat_model(model="llama").invoke("say hi", stop="END")
    body = emulator.requests_to("/api/chat")[-1].body or {}
    assert body["options"]["stop"] == ["END"]


def test_bad_stop_values_are_refused_before_sending(
    manager: ModelManager, emulator: OllamaEmulator
) -> None:
    with pytest.raises(InvalidRequestError, match="stop must be a string or a list of strings"):
        manager.chat_model(model="llama").invoke("say hi", stop=[1])  # type: ignore[list-item]
    assert emulator.requests_to("/api/chat") == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"num_ctx": "8k"}, "option 'num_ctx' must be of type integer"),
        ({"temperature": float("nan")}, "option 'temperature' must be of type float"),
        ({"use_mmap": 1}, "option 'use_mmap' must be of type boolean"),
        ({"stop": [None]}, "stop must be a string or a list of strings"),
        ({"mirostat": 2}, "Ollama has no option 'mirostat'"),
    ],
)
def test_options_are_checked_by_ollamas_types(options: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(InvalidRequestError, match=message):
        check_options(options)


def test_good_options_pass() -> None:
    assert check_options({"num_ctx": 4096.0, "temperature": 0, "stop": "x"}) == {
        "num_ctx": 4096,
        "temperature": 0,
        "stop": ["x"],
    }
    assert check_stop(("a", "b")) == ["a", "b"]


def test_a_500_for_a_wrongly_typed_option_is_not_transient() -> None:
    error = translate_error(
        ollama.ResponseError('option "stop" must be of an array of strings', 500)
    )
    assert isinstance(error, OllamaRequestError)


def test_a_tool_round_counts_as_rendered(manager: ModelManager) -> None:
    chat = manager.chat_model(model="qwen2.5-coder:32b")
    call = AIMessage("", tool_calls=[{"name": "get_price", "args": {"ticker": "NVDA"}, "id": "1"}])
    result = ToolMessage("NVDA: 123.45", tool_call_id="1", name="get_price")
    before = chat.get_num_tokens_from_messages([HumanMessage("price?")], tools=[get_price])
    after = chat.get_num_tokens_from_messages(
        [HumanMessage("price?"), call, result], tools=[get_price]
    )
    assert after - before >= chat.get_num_tokens(
        '{"name": "get_price", "arguments": {"ticker":"NVDA"}}'
    )
