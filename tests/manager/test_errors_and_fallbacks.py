"""Errors that say what happened, and fallbacks the user can see (issue 14's findings)."""

from __future__ import annotations

import ollama
import pytest

from tests.conftest import fast_settings
from zero_llm import (
    ModelManager,
    ModelNotFoundError,
    OllamaBusyError,
    OllamaError,
)
from zero_llm.testing import OllamaEmulator


async def test_load_model_honours_auto_pull_off(emulator: OllamaEmulator) -> None:
    emulator.set_present("qwen2.5-coder:32b", False)
    manager = ModelManager(fast_settings(emulator.base_url, auto_pull=False))
    with pytest.raises(ModelNotFoundError, match=r"zero-llm pull qwen2\.5-coder:32b"):
        await manager.load_model("qwen")
    assert emulator.requests_to("/api/pull") == []


async def test_a_busy_pull_is_retried_not_called_a_bad_name(emulator: OllamaEmulator) -> None:
    emulator.set_present("qwen2.5-coder:32b", False)
    manager = ModelManager(fast_settings(emulator.base_url))
    emulator.faults.fail_next(1, status=503, message="server busy", paths=("/api/pull",))
    result = await manager.load_model("qwen")
    assert result.pulled
    assert len(emulator.requests_to("/api/pull")) == 2


async def test_a_pull_that_stays_busy_says_busy(emulator: OllamaEmulator) -> None:
    emulator.set_present("qwen2.5-coder:32b", False)
    manager = ModelManager(fast_settings(emulator.base_url))
    emulator.faults.fail_next(5, status=503, message="server busy", paths=("/api/pull",))
    with pytest.raises(OllamaBusyError) as caught:
        await manager.pull_model("qwen")
    assert caught.value.attempts == 3


async def test_a_bug_below_us_is_not_dressed_as_an_ollama_failure(
    manager: ModelManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only transport and Ollama failures are translated; a bug in the client propagates."""

    async def buggy_chat(*args: object, **kwargs: object) -> None:
        raise TypeError("a bug in the ollama client")

    monkeypatch.setattr(ollama.AsyncClient, "chat", buggy_chat)
    with pytest.raises(TypeError, match="a bug in the ollama client") as caught:
        await manager.chat_model(model="llama").ainvoke("hi")
    assert not isinstance(caught.value, OllamaError)


async def test_when_everything_fails_the_requested_model_is_named_first(
    emulator: OllamaEmulator,
) -> None:
    emulator.set_present("deepseek-r1:32b", False)
    emulator.set_present("llama3.1:8b", False)
    manager = ModelManager(fast_settings(emulator.base_url, auto_pull=False))
    with pytest.raises(ModelNotFoundError) as caught:
        await manager.ask("analyse it", task="trading")
    message = str(caught.value)
    assert message.startswith("model 'deepseek-r1:32b' is not present")
    assert "fallbacks failed too: llama3.1:8b" in message


async def test_fallback_is_in_the_answers_trace(emulator: OllamaEmulator) -> None:
    emulator.set_present("deepseek-r1:32b", False)
    manager = ModelManager(fast_settings(emulator.base_url, auto_pull=False))
    answer = await manager.ask("analyse it", task="trading")
    assert answer.model == "llama3.1:8b"
    assert answer.trace.fallbacks[0].model == "deepseek-r1:32b"


async def test_a_stream_stopped_early_is_cancelled_not_failed(manager: ModelManager) -> None:
    stream = await manager.query_model("llama", "tell me a long story " * 20, stream=True)
    async for _ in stream:
        break
    await stream.aclose()
    assert stream.trace.cancelled and stream.trace.status == "cancelled"
    assert stream.trace.error_type is None  # a stop is not a failure
