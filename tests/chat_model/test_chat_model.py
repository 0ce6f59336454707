"""ZeroChatModel: the manager as a LangChain chat model, over the emulator's real sockets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage
from langchain_core.tools import tool
from pydantic import BaseModel
from typing_extensions import TypedDict

from tests.conftest import fast_settings
from zero_llm import InvalidRequestError, ModelManager, ZeroChatModel
from zero_llm.testing import OllamaEmulator


class Joke(BaseModel):
    """A joke in two parts."""

    setup: str
    punchline: str


class JokeDict(TypedDict):
    """A joke in two parts."""

    setup: str
    punchline: str


@tool
def get_price(ticker: str) -> str:
    """The last price of a stock ticker."""
    return f"{ticker}: 123.45"


class RunNames(BaseCallbackHandler):
    """Collects chat-model runs and their end results."""

    def __init__(self) -> None:
        self.started: list[dict[str, Any]] = []
        self.ended: list[Any] = []

    def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
        self.started.append(kwargs.get("metadata") or {})

    def on_llm_end(self, response: Any, **kwargs: Any) -> None:
        self.ended.append(response)


def test_chat_model_is_a_langchain_chat_model(manager: ModelManager) -> None:
    chat = manager.chat_model()
    assert isinstance(chat, ZeroChatModel)
    assert chat.runtime is manager.runtime
    answer = chat.invoke("hello there")
    assert isinstance(answer, AIMessage)
    assert answer.content == "[llama3.1:8b] You said: hello there"
    meta = answer.response_metadata
    assert meta["model_name"] == "llama3.1:8b"
    assert meta["done_reason"] == "stop"
    assert meta["route"]["role"] == "quick" and meta["route"]["reason"]
    assert meta["fallbacks"] == [] and meta["fallback_note"] is None
    assert answer.usage_metadata is not None and answer.usage_metadata["output_tokens"] > 0


def test_a_chat_model_built_alone_is_wired_as_a_managers(
    emulator: OllamaEmulator, tmp_path: Path
) -> None:
    """Built from settings alone, it gets a runtime built the same way as a manager's."""
    settings = {"ollama_host": emulator.base_url, "home": str(tmp_path)}
    alone = ZeroChatModel(settings=settings, session_id="alone")
    answer = alone.invoke("hello there")
    assert answer.response_metadata["model_name"] == "llama3.1:8b"
    managed = ModelManager(**settings)
    parts = ("catalog", "residency", "hosts", "profiles", "calls", "storage", "core", "bridge")
    for part in parts:
        assert type(getattr(alone.runtime, part)) is type(getattr(managed.runtime, part))
    assert alone.runtime.core.calls is alone.runtime.calls  # one runtime, wired once
    assert alone.runtime.bridge is managed.runtime.bridge  # the process's one sync bridge
    stored = managed.history_sync.messages("alone")  # the same database, by the settings
    assert [m.role for m in stored] == ["human", "ai"]
    managed.close()
    alone.runtime.close()


async def test_async_and_streamed_answers_agree(manager: ModelManager) -> None:
    chat = manager.chat_model(task="code")
    whole = await chat.ainvoke("write a function")
    chunks = [c async for c in chat.astream("write a function")]
    assert all(isinstance(c, AIMessageChunk) for c in chunks)
    assert len(chunks) > 2
    streamed = chunks[0]
    for chunk in chunks[1:]:
        streamed = streamed + chunk
    assert streamed.content == whole.content
    assert streamed.response_metadata["model_name"] == "qwen2.5-coder:32b"


def test_sync_stream_agrees_with_invoke(manager: ModelManager) -> None:
    chat = manager.chat_model(task="code")
    whole = chat.invoke("write a function")
    sync_chunks = list(chat.stream("write a function"))
    assert len(sync_chunks) > 2
    assert "".join(str(c.content) for c in sync_chunks) == whole.content


def test_thinking_is_kept_apart(manager: ModelManager) -> None:
    answer = manager.chat_model(task="trading").invoke("analyse NVDA")
    assert answer.response_metadata["model_name"] == "deepseek-r1:32b"
    assert answer.additional_kwargs["reasoning_content"]
    assert "<think>" not in str(answer.content)
    assert answer.additional_kwargs["reasoning_content"] not in str(answer.content)


async def test_task_model_and_session_are_configurable_per_call(
    manager: ModelManager, emulator: OllamaEmulator
) -> None:
    chat = manager.chat_model()
    by_bind = await chat.bind(task="code").ainvoke("hi")
    assert by_bind.response_metadata["model_name"] == "qwen2.5-coder:32b"
    by_config = await chat.ainvoke("hi", config={"configurable": {"zero_llm_model": "deepseek"}})
    assert by_config.response_metadata["model_name"] == "deepseek-r1:32b"
    await chat.ainvoke("remember me", config={"configurable": {"zero_llm_session_id": "cfg"}})
    stored = await manager.history.messages("cfg")
    assert [m.role for m in stored] == ["human", "ai"]


def test_callbacks_see_one_chat_model_run_naming_the_answering_model(
    manager: ModelManager,
) -> None:
    names = RunNames()
    manager.chat_model(task="code").invoke("fix it", config={"callbacks": [names]})
    assert len(names.started) == 1 and names.started[0]["ls_provider"] == "ollama"
    assert names.ended[0].llm_output["model_name"] == "qwen2.5-coder:32b"


@pytest.mark.parametrize("schema", [Joke, JokeDict, Joke.model_json_schema()])
def test_structured_output_through_ollama_format(
    manager: ModelManager, emulator: OllamaEmulator, schema: Any
) -> None:
    structured = manager.chat_model().with_structured_output(schema)
    result = structured.invoke("tell me a joke")
    if schema is Joke:
        assert isinstance(result, Joke)
    else:
        assert set(result) == {"setup", "punchline"}
    body = emulator.requests_to("/api/chat")[-1].body
    assert body is not None and body["format"]["properties"].keys() == {"setup", "punchline"}


async def test_structured_output_with_raw(manager: ModelManager) -> None:
    structured = manager.chat_model().with_structured_output(Joke, include_raw=True)
    result = await structured.ainvoke("tell me a joke")
    assert isinstance(result["raw"], AIMessage)
    assert isinstance(result["parsed"], Joke) and result["parsing_error"] is None


def test_bound_tools_reach_ollama_and_never_a_model_without_them(
    manager: ModelManager, emulator: OllamaEmulator
) -> None:
    chat = manager.chat_model(task="trading").bind_tools([get_price])
    answer = chat.invoke("what is the price of NVDA?")
    bodies = [r.body for r in emulator.requests_to("/api/chat") if r.body]
    assert bodies and all(not b.get("tools") for b in bodies)  # never to deepseek-r1
    assert [b["model"] for b in bodies] == ["deepseek-r1:32b"]  # it calls tools itself
    tool_names = bodies[0]["format"]["anyOf"][0]["properties"]["tool_calls"]["items"]
    assert tool_names["properties"]["name"]["enum"] == ["get_price"]
    meta = answer.response_metadata
    assert meta["tool_calling"] == "structured" and meta["tool_model"] is None
    assert meta["route"]["role"] == "reasoning"


def test_a_conversation_may_end_with_a_tool_result(
    manager: ModelManager, emulator: OllamaEmulator
) -> None:
    from langchain_core.messages import ToolMessage

    history = [
        HumanMessage("price of NVDA?"),
        AIMessage("", tool_calls=[{"name": "get_price", "args": {"ticker": "NVDA"}, "id": "c1"}]),
        ToolMessage("NVDA: 123.45", tool_call_id="c1"),
    ]
    manager.chat_model(task="quick").bind_tools([get_price]).invoke(history)
    sent = emulator.requests_to("/api/chat")[-1].body
    assert sent is not None
    assert [m["role"] for m in sent["messages"]] == ["user", "assistant", "tool"]
    assert sent["messages"][1]["tool_calls"][0]["function"] == {
        "name": "get_price",
        "arguments": {"ticker": "NVDA"},
    }
    assert sent["messages"][2]["tool_name"] == "get_price"


async def test_memory_rule_question_style_loads_and_stores_once(
    manager: ModelManager, emulator: OllamaEmulator
) -> None:
    chat = manager.chat_model(session_id="q")
    await chat.ainvoke("hello, first question")
    await chat.ainvoke([SystemMessage("be brief"), HumanMessage("hello, second question")])
    sent = emulator.requests_to("/api/chat")[-1].body
    assert sent is not None
    assert [m["content"] for m in sent["messages"]][:3] == [
        "be brief",
        "hello, first question",
        "[llama3.1:8b] You said: hello, first question",
    ]
    stored = await manager.history.messages("q")
    assert [m.content for m in stored] == [
        "hello, first question",
        "[llama3.1:8b] You said: hello, first question",
        "hello, second question",
        "[llama3.1:8b] You said: hello, second question",
    ]


async def test_memory_rule_agent_style_never_duplicates(
    manager: ModelManager, emulator: OllamaEmulator
) -> None:
    chat = manager.chat_model(session_id="agent")
    conversation: list[Any] = [SystemMessage("rules"), HumanMessage("one")]
    first = await chat.ainvoke(conversation)
    conversation += [first, HumanMessage("two")]
    second = await chat.ainvoke(conversation)
    sent = emulator.requests_to("/api/chat")[-1].body
    assert sent is not None
    contents = [m["content"] for m in sent["messages"]]
    assert contents == ["rules", "one", first.content, "two"]  # nothing loaded twice
    stored = await manager.history.messages("agent")
    assert [m.content for m in stored] == ["one", first.content, "two", second.content]


async def test_a_follow_up_stays_on_its_conversations_model(manager: ModelManager) -> None:
    chat = manager.chat_model(session_id="sticky")
    first = await chat.ainvoke("def f(x): return x  # refactor this python function")
    assert first.response_metadata["model_name"] == "qwen2.5-coder:32b"
    follow = await chat.ainvoke("ok, now make it faster")
    assert follow.response_metadata["model_name"] == "qwen2.5-coder:32b"
    assert follow.response_metadata["route"]["sticky"] is True


async def test_fallbacks_are_visible_and_can_be_forbidden(emulator: OllamaEmulator) -> None:
    emulator.set_present("deepseek-r1:32b", False)
    manager = ModelManager(fast_settings(emulator.base_url, auto_pull=False))
    answer = await manager.chat_model(task="trading").ainvoke("analyse it")
    note = answer.response_metadata["fallback_note"]
    assert note.startswith("answered by llama3.1:8b instead of deepseek-r1:32b because")
    strict = ModelManager(
        fast_settings(emulator.base_url, auto_pull=False, models={"reasoning": {"fallback": False}})
    )
    with pytest.raises(Exception, match="deepseek-r1:32b"):
        await strict.chat_model(task="trading").ainvoke("analyse it")


def test_unknown_call_arguments_are_refused(manager: ModelManager) -> None:
    with pytest.raises(InvalidRequestError, match="temperature"):
        manager.chat_model().invoke("hi", temperature=3)


def test_a_chat_model_builds_its_own_manager_from_settings(emulator: OllamaEmulator) -> None:
    chat = ZeroChatModel(settings={"ollama_host": emulator.base_url})
    assert chat.invoke("alone").content == "[llama3.1:8b] You said: alone"
