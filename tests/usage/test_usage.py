"""One usage record per call, the ledger in SQL, summaries, and logs without text."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from langchain_core.callbacks import AsyncCallbackHandler

from tests.conftest import fast_settings
from zero_llm import ModelManager, OllamaRequestError, StreamInterruptedError
from zero_llm.testing import OllamaEmulator
from zero_llm.usage import USAGE_EVENT, UsageRecord, summarize


@pytest.fixture
async def manager(emulator: OllamaEmulator, tmp_path: Path):  # type: ignore[no-untyped-def]
    mm = ModelManager(fast_settings(emulator.base_url, home=tmp_path))
    yield mm
    await mm.aclose()


async def records(manager: ModelManager) -> list[UsageRecord]:
    await manager.flush_usage()
    return await manager.usage.records()


async def test_a_successful_call_matches_what_ollama_sent(
    manager: ModelManager, emulator: OllamaEmulator
) -> None:
    first = await manager.query_model("llama", "How are markets today?", session_id="u1")
    second = await manager.ask("Why did $SPY drop?")
    one, two = await records(manager)
    assert one.request_id == first.trace.request_id and two.request_id == second.trace.request_id
    assert one.model == one.requested_model == "llama3.1:8b" and one.session_id == "u1"
    assert one.prompt_tokens == first.trace.prompt_tokens == one.prompt_tokens_counted
    assert one.output_tokens == first.trace.output_tokens and one.output_tokens > 0
    # the emulator reports what really elapsed: at time_scale 0 the load is instant, not 3 s
    assert one.load_duration_s is not None and 0 < one.load_duration_s <= (one.latency_s or 0)
    assert one.cold_load is False
    assert one.eval_duration_s and one.eval_duration_s <= (one.latency_s or 0)
    assert one.tokens_per_second == pytest.approx(one.output_tokens / one.eval_duration_s)
    assert one.num_ctx == 131072 and one.attempts == 1 and one.error_type is None
    assert one.done_reason == "stop" and one.streamed is False
    assert one.thinking_tokens is None  # llama does not think
    assert two.task == "analysis" and two.route_reason is not None
    # Kinds of evidence only, never the prompt's words.
    assert two.route_reason.startswith("task=analysis method=classifier confidence=")
    assert "signals=" in two.route_reason and "'" not in two.route_reason
    assert one.status == two.status == "ok" and one.fallback_note is None
    assert two.model == "deepseek-r1:32b" and (two.thinking_tokens or 0) > 0
    assert one.latency_s and one.first_token_s is not None


async def test_retry_then_success_and_failure(
    manager: ModelManager, emulator: OllamaEmulator
) -> None:
    emulator.faults.busy_next(1)
    await manager.query_model("llama", "retry")
    emulator.faults.fail_next(1, status=400, message="bad option")
    with pytest.raises(OllamaRequestError):
        await manager.query_model("llama", "fail")
    retried, failed = await records(manager)
    assert retried.attempts == 2 and retried.retries[0]["error_type"] == "OllamaBusyError"
    assert failed.error_type == "OllamaRequestError" and "bad option" in (failed.error or "")
    assert failed.model is None and failed.output_tokens is None  # unknown, not 0


async def test_fallback_stream_and_cut_stream(
    manager: ModelManager, emulator: OllamaEmulator
) -> None:
    emulator.faults.fail_next(3, status=500)
    await manager.query_model("qwen", "fallback please")
    stream = await manager.query_model("llama", "stream please", stream=True)
    await stream.text()
    emulator.faults.cut_stream_after(2)
    cut = await manager.query_model("llama", "cut please", stream=True)
    with pytest.raises(StreamInterruptedError):
        await cut.text()
    fallback, streamed, broken = await records(manager)
    assert fallback.model == "llama3.1:8b" and fallback.requested_model == "qwen2.5-coder:32b"
    assert fallback.fallbacks[0]["model"] == "qwen2.5-coder:32b" and fallback.attempts == 4
    assert streamed.streamed and streamed.output_tokens and streamed.first_token_s is not None
    assert broken.error_type == "StreamInterruptedError" and broken.streamed


def test_sync_and_runnable_calls_are_recorded(manager: ModelManager) -> None:
    manager.query_model_sync("llama", "sync")
    manager.as_runnable().invoke({"input": "good morning", "session_id": "r"})
    list(manager.as_runnable().stream("streamed runnable"))
    manager.usage_recorder.flush_sync()
    got = manager.history_sync.store  # the same database serves both
    assert got.database is manager.usage.database
    rows = manager.bridge.run(manager.usage.records())
    assert [r.streamed for r in rows] == [False, False, True]
    assert rows[1].session_id == "r" and rows[1].task == "quick"


async def test_callbacks_receive_the_usage_event(manager: ModelManager) -> None:
    class Listener(AsyncCallbackHandler):
        def __init__(self) -> None:
            self.events: list[tuple[str, Any]] = []

        async def on_custom_event(
            self, name: str, data: Any, *, run_id: UUID, **kwargs: Any
        ) -> None:
            self.events.append((name, data))

    listener = Listener()
    await manager.as_runnable().ainvoke("hello", config={"callbacks": [listener]})
    assert [name for name, _ in listener.events] == [USAGE_EVENT]
    assert isinstance(listener.events[0][1], UsageRecord)
    assert len(await records(manager)) == 1  # our handler worked alongside


async def test_filters_by_model_task_session_and_time(manager: ModelManager) -> None:
    await manager.query_model("llama", "a", session_id="s1")
    await manager.ask("def f(): pass  # fix this python bug", session_id="s2")
    await manager.flush_usage()
    assert [r.model for r in await manager.usage.records(model="qwen2.5-coder:32b")] == [
        "qwen2.5-coder:32b"
    ]
    assert [r.session_id for r in await manager.usage.records(task="code")] == ["s2"]
    assert len(await manager.usage.records(session_id="s1")) == 1
    future = datetime.now(UTC) + timedelta(hours=1)
    assert await manager.usage.records(since=future) == []
    assert len(await manager.usage.records(until=future)) == 2
    summary = {s.key: s for s in await manager.usage.summary(by="model")}
    assert summary["llama3.1:8b"].calls == 1 and summary["qwen2.5-coder:32b"].calls == 1


async def test_a_storage_failure_never_fails_the_query(
    emulator: OllamaEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    manager = ModelManager(
        fast_settings(
            emulator.base_url, history_url="sqlite+aiosqlite:////proc/forbidden/usage.sqlite3"
        )
    )
    with caplog.at_level(logging.ERROR, logger="zero_llm.usage"):
        answer = await manager.query_model("llama", "still answered")
        await manager.flush_usage()
    assert answer == "[llama3.1:8b] You said: still answered"
    assert manager.usage_recorder.failed_writes == 1
    assert "could not record the usage" in caplog.text
    assert manager.usage_recorder.failed == 1 and manager.usage_recorder.written == 0


async def test_one_log_line_per_call_without_text(
    manager: ModelManager, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="zero_llm.core"):
        await manager.query_model("llama", "my secret portfolio")
    lines = [r.getMessage() for r in caplog.records if r.name == "zero_llm.core"]
    assert len(lines) == 1 and "zero_llm call request_id=" in lines[0]
    assert "secret" not in lines[0] and "output_tokens=" in lines[0]


async def test_text_is_logged_only_when_asked(
    emulator: OllamaEmulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    manager = ModelManager(fast_settings(emulator.base_url, home=tmp_path, log_content=True))
    with caplog.at_level(logging.INFO, logger="zero_llm.core"):
        await manager.query_model("llama", "my secret portfolio")
    assert "my secret portfolio" in caplog.text
    await manager.aclose()


def record(**overrides: Any) -> UsageRecord:
    base: dict[str, Any] = {
        "request_id": "r",
        "created_at": datetime.now(UTC),
        "session_id": None,
        "task": "quick",
        "route_reason": None,
        "requested_model": "m",
        "model": "m",
        "fallbacks": [],
        "num_ctx": 1024,
        "attempts": 1,
        "retries": [],
        "error_type": None,
        "error": None,
        "streamed": False,
        "latency_s": 1.0,
        "first_token_s": 0.5,
        "load_duration_s": 0.0,
        "prompt_eval_duration_s": 0.1,
        "eval_duration_s": 1.0,
        "cold_load": False,
        "prompt_tokens": 10,
        "prompt_tokens_counted": 10,
        "output_tokens": 20,
        "thinking_tokens": None,
        "tokens_per_second": 20.0,
        "done_reason": "stop",
        "truncation_suspected": False,
        "dropped_messages": 0,
    }
    base.update(overrides)
    return UsageRecord(**base)


def test_summary_math() -> None:
    rows = [
        record(
            latency_s=float(i), first_token_s=i / 10, output_tokens=10 * i, eval_duration_s=float(i)
        )
        for i in range(1, 21)
    ]
    rows.append(
        record(
            error_type="OllamaServerError",
            latency_s=None,
            output_tokens=None,
            prompt_tokens=None,
            first_token_s=None,
            retries=[{}, {}],
            cold_load=True,
            task="code",
        )
    )
    (everything,) = summarize(rows)
    assert everything.calls == 21 and everything.failures == 1 and everything.retries == 2
    assert everything.latency_p50_s == 10.0 and everything.latency_p95_s == 19.0
    assert everything.first_token_p50_s == pytest.approx(1.0)
    assert everything.prompt_tokens == 200 and everything.output_tokens == 2100
    assert everything.tokens_per_second == pytest.approx(2100 / 210)
    assert everything.cold_loads == 1
    by_task = {s.key: s for s in summarize(rows, by="task")}
    assert by_task["code"].calls == 1 and by_task["code"].latency_p50_s is None
    assert by_task["code"].tokens_per_second is None  # unknown, not 0
    assert summarize([], by="model") == []


async def test_the_route_reason_quotes_the_prompt_only_with_log_content(
    emulator: OllamaEmulator, tmp_path: Path
) -> None:
    for log_content in (False, True):
        mm = ModelManager(
            fast_settings(
                emulator.base_url, home=tmp_path / str(log_content), log_content=log_content
            )
        )
        await mm.ask("Why did $SPY drop?", session_id="private")
        (record,) = await records(mm)
        assert record.route_reason is not None and record.route_reason.startswith("task=analysis")
        assert ("$SPY" in record.route_reason) is log_content
        await mm.aclose()
