"""The manager keeps prompts inside each model's window, against the emulator."""

from __future__ import annotations

import logging

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from tests.conftest import fast_settings
from zero_llm import ContextOverflowError, ModelManager
from zero_llm.testing import EmulatedModel, OllamaEmulator
from zero_llm.tokens import EstimatingCounter, ExactCounter


def long_history(turns: int, words: int) -> list[BaseMessage]:
    messages: list[BaseMessage] = [SystemMessage("You are ZERO.")]
    for i in range(turns):
        messages.append(HumanMessage(f"q{i} " + "market data point " * words))
        messages.append(AIMessage(f"a{i} " + "noted and analysed " * words))
    messages.append(HumanMessage("So what now?"))
    return messages


def last_chat(emulator: OllamaEmulator) -> dict:
    body = emulator.requests_to("/api/chat")[-1].body
    assert body is not None
    return body


@pytest.mark.parametrize(
    "text",
    [
        "Plain English question about the market.",
        "שלום, מה דעתך על המניות של טבע? האם הסיכון גבוה מדי?",
        "Emoji check 🚀🔥👍 and accents: émigré café",
        "```python\ndef f(x):\n    return {k: v for k, v in x.items() if v}\n```",
    ],
)
@pytest.mark.parametrize("model", ["llama", "qwen", "deepseek"])
async def test_our_count_agrees_with_ollamas(manager: ModelManager, model: str, text: str) -> None:
    answer = await manager.query_model(model, text, context="Answer in one line.")
    assert answer.trace.prompt_tokens_counted == answer.trace.prompt_tokens
    assert not answer.trace.truncation_suspected


async def test_counts_are_exact_from_the_served_vocabulary(manager: ModelManager) -> None:
    await manager.query_model("llama", "hi")
    profile = await manager.profiles.resolve(manager.spec("llama"))
    assert isinstance(profile.counter, ExactCounter)


async def test_a_long_history_is_trimmed_to_the_window_of_each_model(
    manager: ModelManager, emulator: OllamaEmulator
) -> None:
    history = long_history(turns=60, words=120)  # about 44K tokens
    runnable = manager.as_runnable()
    qwen = await runnable.ainvoke({"input": history, "model": "qwen"})
    sent = last_chat(emulator)
    assert qwen.response_metadata["dropped_messages"] > 0
    assert sent["messages"][0] == {"role": "system", "content": "You are ZERO."}
    assert sent["messages"][1]["role"] == "user" and sent["messages"][-1]["content"] == (
        "So what now?"
    )
    budget = manager.profiles.budget_for(manager.spec("qwen"), 32768).prompt_tokens
    assert qwen.response_metadata["prompt_tokens"] <= budget
    assert (
        qwen.response_metadata["prompt_tokens"] == qwen.response_metadata["prompt_tokens_counted"]
    )
    llama = await runnable.ainvoke({"input": history, "model": "llama"})
    assert llama.response_metadata["dropped_messages"] == 0
    assert len(last_chat(emulator)["messages"]) == len(history)


async def test_an_overflowing_question_falls_back_to_a_larger_window(
    manager: ModelManager, emulator: OllamaEmulator
) -> None:
    huge = "numbers " * 40000  # about 40K tokens: more than qwen's 32K, less than 128K
    answer = await manager.query_model("qwen", huge)
    assert answer.model == "llama3.1:8b"
    assert answer.trace.fallbacks[0].error_type == "ContextOverflowError"
    assert [b.body["model"] for b in emulator.requests_to("/api/chat") if b.body] == ["llama3.1:8b"]


async def test_overflow_without_fallback_names_the_numbers(emulator: OllamaEmulator) -> None:
    manager = ModelManager(fast_settings(emulator.base_url, models={"code": {"fallbacks": []}}))
    with pytest.raises(ContextOverflowError, match="num_ctx 32768") as info:
        await manager.query_model("qwen", "numbers " * 40000)
    assert info.value.needed and info.value.budget and info.value.needed > info.value.budget
    assert emulator.requests_to("/api/chat") == []


async def test_truncate_false_goes_on_the_wire(
    manager: ModelManager, emulator: OllamaEmulator
) -> None:
    await manager.query_model("llama", "hello")
    stream = await manager.query_model("llama", "hello", stream=True)
    assert "hello" in await stream.text()
    assert [b.body["truncate"] for b in emulator.requests_to("/api/chat") if b.body] == [
        False,
        False,
    ]


def verbose_template_model() -> EmulatedModel:
    """A model whose template costs far more per message than any we know of."""
    return EmulatedModel(
        name="chatty:1b",
        architecture="llama",
        family="llama",
        context_length=2048,
        parameter_size="1B",
        parameter_count=10**9,
        size=10**9,
        message_overhead=400,
    )


async def test_ollama_refusing_an_overlong_prompt_is_a_context_overflow() -> None:
    with OllamaEmulator(models=[verbose_template_model()]) as emu:
        manager = ModelManager(fast_settings(emu.base_url, models={"tiny": {"name": "chatty:1b"}}))
        history = [HumanMessage("x " * 100), AIMessage("y " * 100)] * 3 + [HumanMessage("q")]
        with pytest.raises(ContextOverflowError, match="context"):
            await manager.as_runnable().ainvoke({"input": history, "model": "chatty:1b"})


async def test_silent_truncation_is_detected(caplog: pytest.LogCaptureFixture) -> None:
    with OllamaEmulator(models=[verbose_template_model()]) as emu:
        manager = ModelManager(
            fast_settings(
                emu.base_url,
                models={"tiny": {"name": "chatty:1b"}},
                window={"refuse_truncation": False},
            )
        )
        history = [HumanMessage("x " * 100), AIMessage("y " * 100)] * 3 + [HumanMessage("q")]
        with caplog.at_level(logging.WARNING, logger="zero_llm.calls"):
            message = await manager.as_runnable().ainvoke({"input": history, "model": "tiny"})
        assert message.response_metadata["truncation_suspected"] is True
        meta = message.response_metadata
        assert meta["prompt_tokens_counted"] < meta["prompt_tokens"] <= 2048
        assert "probably cut by Ollama" in caplog.text
        assert "truncate" not in (emu.requests_to("/api/chat")[-1].body or {})


async def test_a_model_without_a_usable_vocabulary_is_estimated_generously() -> None:
    with OllamaEmulator(models=[verbose_template_model()]) as emu:
        manager = ModelManager(fast_settings(emu.base_url, models={"tiny": {"name": "chatty:1b"}}))
        profile = await manager.profiles.resolve(manager.spec("chatty:1b"))
        assert isinstance(profile.counter, EstimatingCounter)


async def test_the_vocabulary_is_fetched_once_per_digest(emulator: OllamaEmulator) -> None:
    for _ in range(2):
        manager = ModelManager(fast_settings(emulator.base_url))
        await manager.query_model("qwen", "hello")
    verbose = [r for r in emulator.requests_to("/api/show") if r.body and r.body.get("verbose")]
    assert len(verbose) <= 1  # none when an earlier test in this process built it already


async def test_dropped_turns_can_be_summarized_by_the_default_model(
    emulator: OllamaEmulator,
) -> None:
    manager = ModelManager(fast_settings(emulator.base_url, window={"summarize_dropped": True}))
    history = long_history(turns=60, words=120)
    emulator.set_reply("They discussed market data at length.", model="llama3.1:8b")
    message = await manager.as_runnable().ainvoke({"input": history, "model": "qwen"})
    sent = last_chat(emulator)
    assert sent["model"] == "qwen2.5-coder:32b"
    assert sent["messages"][1] == {
        "role": "system",
        "content": "Summary of the earlier conversation: They discussed market data at length.",
    }
    assert sent["messages"][2]["role"] == "user"
    meta = message.response_metadata
    assert meta["dropped_messages"] > 0 and meta["prompt_tokens"] == meta["prompt_tokens_counted"]
    assert (
        meta["prompt_tokens"]
        <= manager.profiles.budget_for(manager.spec("qwen"), 32768).prompt_tokens
    )
    summarizer = emulator.requests_to("/api/chat")[-2].body
    assert summarizer is not None and summarizer["model"] == "llama3.1:8b"
    assert "q0 market data point" in summarizer["messages"][1]["content"]
