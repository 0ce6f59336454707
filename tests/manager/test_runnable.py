"""as_runnable(): a RunnableBranch over per-model pipelines, composed into larger LCEL."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from langchain_core.callbacks import AsyncCallbackHandler, BaseCallbackHandler
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableBranch, RunnableLambda

from zero_llm import InvalidRequestError, ModelManager, UnknownModelError
from zero_llm.testing import OllamaEmulator


class Recorder(BaseCallbackHandler):
    """Collects the names of the runs and LLM calls it sees."""

    def __init__(self) -> None:
        self.chains: list[str] = []
        self.llm_models: list[str] = []
        self.tokens: list[str] = []

    def on_chain_start(self, serialized: Any, inputs: Any, **kwargs: Any) -> None:
        self.chains.append(kwargs.get("name") or "")

    def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
        self.llm_models.append((kwargs.get("metadata") or {}).get("ls_model_name", ""))

    def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
        self.tokens.append(token)


def test_the_router_is_a_runnable_branch(manager: ModelManager) -> None:
    runnable = manager.as_runnable()
    steps = runnable.bound.steps  # type: ignore[attr-defined]
    assert isinstance(steps[-1], RunnableBranch)
    assert manager.as_runnable() is runnable  # built once


async def test_routes_by_text_task_and_model(manager: ModelManager) -> None:
    runnable = manager.as_runnable()
    code = await runnable.ainvoke("Fix this python bug: def f(: pass")
    assert isinstance(code, AIMessage)
    assert code.response_metadata["model_name"] == "qwen2.5-coder:32b"
    assert code.response_metadata["route"]["task"] == "code"
    trading = await runnable.ainvoke({"input": "hello", "task": "trading", "context": "be brief"})
    assert trading.response_metadata["model_name"] == "deepseek-r1:32b"
    assert trading.additional_kwargs["reasoning_content"].startswith("Let me think")
    assert "think" not in str(trading.content).lower()
    pinned = await runnable.ainvoke({"input": "```code```", "model": "llama"})
    assert pinned.response_metadata["model_name"] == "llama3.1:8b"
    assert pinned.usage_metadata and pinned.usage_metadata["output_tokens"] > 0


def test_sync_invoke_stream_and_batch(manager: ModelManager) -> None:
    runnable = manager.as_runnable()
    message = runnable.invoke("quick one")
    assert message.content == "[llama3.1:8b] You said: quick one"
    chunks = list(runnable.stream("quick two"))
    assert "".join(str(c.content) for c in chunks) == "[llama3.1:8b] You said: quick two"
    assert chunks[-1].response_metadata["model_name"] == "llama3.1:8b"
    batch = runnable.batch(["a", "Why is $SPY down?", "def x(): pass"])
    assert [m.response_metadata["model_name"] for m in batch] == [
        "llama3.1:8b",
        "deepseek-r1:32b",
        "qwen2.5-coder:32b",
    ]


async def test_async_stream_and_abatch(manager: ModelManager) -> None:
    runnable = manager.as_runnable()
    chunks = [c async for c in runnable.astream("hello, stream please")]
    assert "".join(str(c.content) for c in chunks) == "[llama3.1:8b] You said: hello, stream please"
    results = await runnable.abatch(["one", "two"])
    assert [r.content for r in results] == [
        "[llama3.1:8b] You said: one",
        "[llama3.1:8b] You said: two",
    ]


async def test_composes_with_prompts_and_parsers(manager: ModelManager) -> None:
    prompt = ChatPromptTemplate.from_messages(
        [("system", "You analyse {asset}."), ("human", "Why did {asset} move today?")]
    )
    chain = prompt | manager.as_runnable() | StrOutputParser() | RunnableLambda(str.upper)
    result = await chain.ainvoke({"asset": "$QQQ"})
    assert result == "[DEEPSEEK-R1:32B] YOU SAID: WHY DID $QQQ MOVE TODAY?"
    streamed = "".join([c async for c in chain.astream({"asset": "$QQQ"})])
    assert streamed == result


async def test_messages_input_keeps_history_and_context(
    manager: ModelManager, emulator: OllamaEmulator
) -> None:
    await manager.as_runnable().ainvoke(
        [
            SystemMessage("rules"),
            HumanMessage("first"),
            AIMessage("reply"),
            HumanMessage("second"),
        ]
    )
    body = emulator.requests_to("/api/chat")[-1].body
    assert body is not None
    assert [(m["role"], m["content"]) for m in body["messages"]] == [
        ("system", "rules"),
        ("user", "first"),
        ("assistant", "reply"),
        ("user", "second"),
    ]


def test_callbacks_see_the_chain_and_the_model_calls(manager: ModelManager) -> None:
    recorder = Recorder()
    list(manager.as_runnable().stream("hello there, how are you", config={"callbacks": [recorder]}))
    assert "zero_llm" in recorder.chains and "zero_llm.quick" in recorder.chains
    assert recorder.llm_models == ["llama3.1:8b"]
    assert "".join(recorder.tokens) == "[llama3.1:8b] You said: hello there, how are you"


async def test_async_callbacks_get_errors_too(
    manager: ModelManager, emulator: OllamaEmulator
) -> None:
    class Errors(AsyncCallbackHandler):
        def __init__(self) -> None:
            self.errors: list[str] = []

        async def on_chain_error(self, error: BaseException, *, run_id: UUID, **kw: Any) -> None:
            self.errors.append(type(error).__name__)

    handler = Errors()
    emulator.faults.fail_next(1, status=400, message="nope")
    with pytest.raises(Exception, match="nope"):
        await manager.as_runnable().ainvoke("x", config={"callbacks": [handler]})
    assert "OllamaRequestError" in handler.errors


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ({"text": "no input key"}, InvalidRequestError),
        ({"input": ""}, InvalidRequestError),
        (123, InvalidRequestError),
        ([AIMessage("no question")], InvalidRequestError),
        ({"input": "x", "model": "gpt-5"}, UnknownModelError),
    ],
)
async def test_bad_runnable_input(
    manager: ModelManager, emulator: OllamaEmulator, value: Any, error: type
) -> None:
    with pytest.raises(error):
        await manager.as_runnable().ainvoke(value)
    assert emulator.requests_to("/api/chat") == []
