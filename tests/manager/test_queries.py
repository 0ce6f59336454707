"""query_model: context, thinking, streaming, retries, deadlines, fallbacks, bad input."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import fast_settings
from zero_llm import (
    Answer,
    AnswerStream,
    InvalidRequestError,
    ModelManager,
    ModelNotFoundError,
    OllamaRequestError,
    OllamaServerError,
    OllamaTimeoutError,
    OllamaUnavailableError,
    StreamInterruptedError,
    UnknownModelError,
)
from zero_llm.testing import OllamaEmulator


def break_stream(emulator: OllamaEmulator, fault: str, after_chunks: int) -> None:
    """Arm one of the stream-breaking faults after ``after_chunks`` chunks."""
    arm = {
        "cut": emulator.faults.cut_stream_after,
        "malformed": emulator.faults.malformed_line_after,
        "error_line": emulator.faults.error_line_after,
    }[fault]
    arm(after_chunks)


async def collect(stream: AnswerStream) -> str:
    return "".join([chunk async for chunk in stream])


async def test_context_becomes_the_system_message(
    manager: ModelManager, emulator: OllamaEmulator
) -> None:
    answer = await manager.query_model("llama3.1:8b", "What now?", context="You are ZERO.")
    assert isinstance(answer, Answer) and isinstance(answer, str)
    assert answer == "[llama3.1:8b] You said: What now?"
    body = emulator.requests_to("/api/chat")[-1].body
    assert body is not None
    assert body["messages"] == [
        {"role": "system", "content": "You are ZERO."},
        {"role": "user", "content": "What now?"},
    ]
    assert body["keep_alive"] == "30m" and body["options"]["num_ctx"] == 131072
    assert answer.trace.prompt_tokens and answer.trace.output_tokens
    assert answer.trace.latency_s is not None and answer.trace.complete


async def test_thinking_is_kept_apart_from_the_answer(manager: ModelManager) -> None:
    answer = await manager.query_model("deepseek", "Why did rates rise?")
    assert answer == "[deepseek-r1:32b] You said: Why did rates rise?"
    assert answer.thinking.startswith("Let me think") and "think" not in answer.text
    stream = await manager.query_model("deepseek", "Why did rates rise?", stream=True)
    text = await collect(stream)
    assert text == answer and stream.answer is not None
    assert stream.answer.thinking == answer.thinking


async def test_stream_yields_text_chunks_then_the_answer(manager: ModelManager) -> None:
    stream = await manager.query_model("qwen", "write code", stream=True)
    chunks = [c async for c in stream]
    assert len(chunks) > 3 and all(isinstance(c, str) for c in chunks)
    assert "".join(chunks) == "[qwen2.5-coder:32b] You said: write code"
    assert stream.answer is not None and stream.answer.trace.first_token_s is not None
    assert stream.answer.trace.output_tokens == len(chunks)


def test_sync_and_async_agree(manager: ModelManager) -> None:
    whole = manager.query_model_sync("llama", "parity")
    streamed = manager.query_model_sync("llama", "parity", stream=True)
    assert not isinstance(streamed, Answer)
    assert "".join(streamed) == whole == asyncio.run(manager.query_model("llama", "parity"))
    assert streamed.answer is not None and streamed.answer == whole


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("failures", [1, 2])
async def test_transient_failures_are_retried(
    manager: ModelManager, emulator: OllamaEmulator, stream: bool, failures: int
) -> None:
    emulator.faults.busy_next(failures)
    result = await manager.query_model("llama", "retry me", stream=stream)
    answer = result if isinstance(result, Answer) else (await result.text())
    assert answer == "[llama3.1:8b] You said: retry me"
    assert answer.trace.attempts == failures + 1
    assert [r.error_type for r in answer.trace.retries] == ["OllamaBusyError"] * failures


async def test_gives_up_after_three_attempts_with_the_last_cause(
    emulator: OllamaEmulator,
) -> None:
    manager = ModelManager(fast_settings(emulator.base_url, models={"quick": {"fallbacks": []}}))
    emulator.faults.fail_next(1, status=503).fail_next(2, status=500)
    with pytest.raises(OllamaServerError) as info:
        await manager.query_model("llama", "doomed")
    assert info.value.attempts == 3 and info.value.status_code == 500
    assert len(emulator.requests_to("/api/chat")) == 3


async def test_a_400_is_not_retried(manager: ModelManager, emulator: OllamaEmulator) -> None:
    emulator.faults.fail_next(1, status=400, message="invalid option")
    with pytest.raises(OllamaRequestError, match="invalid option") as info:
        await manager.query_model("llama", "bad")
    assert info.value.attempts == 1 and len(emulator.requests_to("/api/chat")) == 1


async def test_connection_refused_is_retried(emulator: OllamaEmulator) -> None:
    manager = ModelManager(
        fast_settings(
            emulator.base_url, retry={"initial_backoff": 0.4, "jitter": 0.0, "max_backoff": 1.0}
        )
    )
    await manager.load_model("llama")
    emulator.faults.refuse_connections(0.2)
    answer = await manager.query_model("llama", "are you there")
    assert answer.trace.attempts == 2
    assert answer.trace.retries[0].error_type == "OllamaUnavailableError"


async def test_nothing_reachable_fails_clearly() -> None:
    manager = ModelManager(fast_settings("http://127.0.0.1:9"))
    with pytest.raises(OllamaUnavailableError, match=r"127\.0\.0\.1:9") as info:
        await manager.query_model("llama", "anyone?")
    assert info.value.attempts == 3


@pytest.mark.parametrize("fault", ["cut", "malformed", "error_line"])
async def test_a_stream_broken_before_its_first_chunk_is_retried(
    manager: ModelManager, emulator: OllamaEmulator, fault: str
) -> None:
    break_stream(emulator, fault, after_chunks=0)
    stream = await manager.query_model("llama", "one more time", stream=True)
    assert await collect(stream) == "[llama3.1:8b] You said: one more time"
    assert stream.answer is not None and stream.answer.trace.attempts == 2


@pytest.mark.parametrize("fault", ["cut", "malformed", "error_line"])
async def test_a_stream_broken_after_text_raises_with_the_partial_text(
    manager: ModelManager, emulator: OllamaEmulator, fault: str
) -> None:
    break_stream(emulator, fault, after_chunks=4)
    stream = await manager.query_model("llama", "interrupted answer", stream=True)
    received: list[str] = []
    with pytest.raises(StreamInterruptedError) as info:
        async for chunk in stream:
            received.append(chunk)
    assert len(received) == 4 and info.value.partial_text == "".join(received)
    assert "[llama3.1:8b] You said: interrupted answer".startswith(info.value.partial_text)
    assert len(emulator.requests_to("/api/chat")) == 1  # not retried: text was out
    assert stream.trace.error_type == "StreamInterruptedError" and not stream.trace.complete


async def test_a_cold_load_within_the_first_token_timeout_succeeds(
    emulator: OllamaEmulator,
) -> None:
    manager = ModelManager(fast_settings(emulator.base_url, timeouts={"first_token": 2.0}))
    emulator.faults.slow_load(0.5)
    stream = await manager.query_model("deepseek", "cold start", stream=True)
    assert "cold start" in await collect(stream)
    assert stream.answer is not None and stream.answer.trace.attempts == 1
    assert (stream.answer.trace.first_token_s or 0) >= 0.5


@pytest.mark.parametrize("stream", [False, True])
async def test_a_stall_past_the_first_token_timeout_is_retried(
    emulator: OllamaEmulator, stream: bool
) -> None:
    manager = ModelManager(
        fast_settings(emulator.base_url, timeouts={"first_token": 0.3, "response": 0.3})
    )
    emulator.faults.stall_before_first_chunk(1.0)
    result = await manager.query_model("llama", "hello?", stream=stream)
    answer = result if isinstance(result, Answer) else await result.text()
    assert answer.trace.attempts == 2
    assert answer.trace.retries[0].error_type == "OllamaTimeoutError"


async def test_stalls_every_time_end_in_a_timeout_error(emulator: OllamaEmulator) -> None:
    manager = ModelManager(
        fast_settings(
            emulator.base_url, timeouts={"first_token": 0.2}, models={"quick": {"fallbacks": []}}
        )
    )
    emulator.faults.stall_before_first_chunk(0.6, times=3)
    stream = await manager.query_model("llama", "hello?", stream=True)
    with pytest.raises(OllamaTimeoutError, match="first chunk") as info:
        await collect(stream)
    assert info.value.attempts == 3


async def test_fallback_moves_along_the_chain(emulator: OllamaEmulator) -> None:
    manager = ModelManager(fast_settings(emulator.base_url))
    emulator.faults.fail_next(3, status=500)  # qwen's three attempts
    answer = await manager.query_model("qwen", "def f(): pass")
    assert answer.model == "llama3.1:8b" and answer.trace.requested_model == "qwen2.5-coder:32b"
    assert [f.model for f in answer.trace.fallbacks] == ["qwen2.5-coder:32b"]
    assert answer.trace.fallbacks[0].error_type == "OllamaServerError"
    assert answer == "[llama3.1:8b] You said: def f(): pass"


async def test_missing_model_is_pulled_when_auto_pull_is_on() -> None:
    with OllamaEmulator(pullable=["qwen2.5-coder:32b"]) as emu:
        manager = ModelManager(fast_settings(emu.base_url))
        answer = await manager.query_model("qwen", "pull first")
        assert answer.model == "qwen2.5-coder:32b" and answer.trace.pulled == ["qwen2.5-coder:32b"]


async def test_missing_model_without_auto_pull_falls_back_or_fails_clearly() -> None:
    with OllamaEmulator(pullable=["qwen2.5-coder:32b"]) as emu:
        manager = ModelManager(fast_settings(emu.base_url, auto_pull=False))
        answer = await manager.query_model("qwen", "no pulling")
        assert answer.model == "llama3.1:8b"
        assert answer.trace.fallbacks[0].error_type == "ModelNotFoundError"
        alone = ModelManager(
            fast_settings(emu.base_url, auto_pull=False, models={"code": {"fallbacks": []}})
        )
        with pytest.raises(ModelNotFoundError, match=r"ollama pull qwen2\.5-coder:32b"):
            await alone.query_model("qwen", "no pulling")
        assert emu.requests_to("/api/pull") == []


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"input_text": ""}, "empty"),
        ({"input_text": "   \n"}, "empty"),
        ({"input_text": None}, "must be a string"),
        ({"input_text": 42}, "must be a string"),
        ({"input_text": "x\ud800y"}, "surrogate"),
        ({"context": 5}, "context"),
        ({"stream": "yes"}, "stream"),
    ],
)
async def test_bad_input_is_refused_before_anything_is_sent(
    manager: ModelManager, emulator: OllamaEmulator, kwargs: dict, needle: str
) -> None:
    args = {"model_name": "llama", "input_text": "fine", **kwargs}
    with pytest.raises(InvalidRequestError, match=needle):
        await manager.query_model(**args)
    with pytest.raises(UnknownModelError):
        await manager.query_model("gpt-5", "hello")
    # only the server's list was read (any model it has would do)
    assert {r.path for r in emulator.requests} <= {"/api/tags"}


async def test_ask_routes_by_text_and_by_task(manager: ModelManager) -> None:
    code = await manager.ask("```python\nprint(1)\n```")
    assert code.model == "qwen2.5-coder:32b" and code.route is not None
    assert "code fence" in code.route.reason
    trading = await manager.ask("hello", task="Trading")
    assert trading.model == "deepseek-r1:32b" and trading.route is not None
    assert trading.route.explicit


async def test_concurrent_queries_share_one_client_per_loop(manager: ModelManager) -> None:
    answers = await asyncio.gather(*(manager.query_model("llama", f"q{i}") for i in range(20)))
    assert [a.text for a in answers] == [f"[llama3.1:8b] You said: q{i}" for i in range(20)]
    assert manager.backend.connected


async def test_a_stall_between_chunks_ends_the_stream_with_its_partial_text() -> None:
    with OllamaEmulator(chunk_delay=0.4) as emu:
        manager = ModelManager(
            fast_settings(emu.base_url, timeouts={"first_token": 3.0, "stall": 0.15})
        )
        stream = await manager.query_model("llama", "slow answer", stream=True)
        with pytest.raises(StreamInterruptedError, match=r"timeouts\.stall") as info:
            await collect(stream)
        assert info.value.partial_text == "["
        assert isinstance(info.value.__cause__, OllamaTimeoutError)


def test_the_pytest_fixture_serves(ollama_emulator: OllamaEmulator) -> None:
    manager = ModelManager(fast_settings(ollama_emulator.base_url))
    assert manager.query_model_sync("llama", "fixture") == "[llama3.1:8b] You said: fixture"
