"""Nothing lost: usage records survive a normal exit without close(), and kill -9.

Client programs run as real subprocesses against the emulator (served by this process on a
loopback port) and a real SQLite file; the database is read back afterwards.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage

from tests.conftest import fast_settings
from zero_llm import CallTrace, ModelManager, StorageError
from zero_llm.history import HistoryStore, NewMessage
from zero_llm.testing import OllamaEmulator
from zero_llm.usage import UsageLedger, UsageRecord

ROOT = Path(__file__).resolve().parents[2]


def run_script(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def stored_usage(url: str) -> list[UsageRecord]:
    ledger = UsageLedger(url)
    records = await ledger.records()
    await ledger.database.close()
    return records


async def test_a_script_that_exits_without_close_keeps_every_record(
    emulator: OllamaEmulator, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'usage.sqlite3'}"
    script = """
        import sys
        from zero_llm import CallTrace, ModelManager, StorageError
        mm = ModelManager(ollama_host=sys.argv[1], history_url=sys.argv[2], usage_flush_interval=5)
        for i in range(20):
            mm.query_model_sync("llama", f"question {i}")
        print("done")  # and exit: no close(), no flush
    """
    result = run_script(script, emulator.base_url, url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "done"
    records = await stored_usage(url)
    assert len(records) == 20
    assert {r.status for r in records} == {"ok"}


async def test_records_are_durable_within_the_flush_interval(
    emulator: OllamaEmulator, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'usage.sqlite3'}"
    manager = ModelManager(fast_settings(emulator.base_url, history_url=url))
    answer = await manager.query_model("llama", "no session, no flush")
    assert manager.settings.usage_flush_interval <= 1.0
    deadline = time.monotonic() + manager.settings.usage_flush_interval + 2.0
    found: list[UsageRecord] = []
    while time.monotonic() < deadline and not found:  # read by another connection pool
        await asyncio.sleep(0.05)
        found = [
            r for r in await manager.usage.records() if r.request_id == answer.trace.request_id
        ]
    assert found, "the record was not written within the flush interval"
    assert manager.usage_recorder.written == 1 and manager.usage_recorder.failed == 0
    await manager.aclose()


async def test_a_session_turn_and_its_usage_share_one_transaction(
    emulator: OllamaEmulator, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'h.sqlite3'}"
    manager = ModelManager(
        fast_settings(emulator.base_url, history_url=url, usage_flush_interval=60)
    )
    answer = await manager.query_model("llama", "remember me", session_id="s1")
    # No flush: the record was written with the turn, before the call returned.
    assert manager.usage_recorder.pending == 0
    (record,) = await manager.usage.records(session_id="s1")
    assert record.request_id == answer.trace.request_id
    assert len(await manager.history.messages("s1")) == 2
    await manager.aclose()


async def test_a_failed_turn_write_stores_neither_turn_nor_usage(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'h.sqlite3'}"
    store = HistoryStore(url)
    ledger = UsageLedger(store.database)
    record = UsageRecord.from_trace(CallTrace(requested_model="llama3.1:8b"), None)
    await store.append("s", [NewMessage(HumanMessage("with usage"), 1)], usage=record)
    broken = replace(  # violates NOT NULL inside the transaction, after the messages
        UsageRecord.from_trace(CallTrace(requested_model="x"), None), requested_model=None
    )
    with pytest.raises(StorageError):
        await store.append("s", [NewMessage(HumanMessage("lost"), 1)], usage=broken)
    assert [m.content for m in await store.messages("s")] == ["with usage"]
    assert [r.request_id for r in await ledger.records()] == [record.request_id]
    await ledger.write([record])  # the same record again (a retry) is stored once
    assert len(await ledger.records()) == 1
    await store.close()


BURST = """
    import asyncio, sys
    from zero_llm import CallTrace, ModelManager, StorageError

    async def main():
        mm = ModelManager(
            ollama_host=sys.argv[1], history_url=sys.argv[2], usage_flush_interval=0.2
        )
        async def one(i):
            session = f"s{i % 5}"
            if i % 2:
                answer = await mm.query_model("llama", f"q{i}", session_id=session)
            else:
                stream = await mm.query_model("llama", f"q{i}", stream=True, session_id=session)
                answer = await stream.text()
            print("returned", answer.trace.request_id, session, flush=True)

        await asyncio.gather(*(one(i) for i in range(1_000)))

    asyncio.run(main())
"""


@pytest.mark.timeout(120)
async def test_kill_9_during_a_burst_leaves_no_turn_without_its_usage(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'burst.sqlite3'}"
    with OllamaEmulator(chunk_delay=0.002) as emulator:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        process = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(BURST), emulator.base_url, url],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        returned: list[tuple[str, str]] = []
        assert process.stdout is not None
        for line in process.stdout:
            _, request_id, session = line.split()
            returned.append((request_id, session))
            if len(returned) >= 40:
                break
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL

    store = HistoryStore(url)
    records = await UsageLedger(store.database).records()
    by_session: dict[str, int] = {}
    for record in records:
        assert record.session_id is not None and record.status == "ok"
        by_session[record.session_id] = by_session.get(record.session_id, 0) + 1
    stored_ids = {r.request_id for r in records}
    # Every call that returned to its caller has its record.
    assert {request_id for request_id, _ in returned} <= stored_ids
    for session in {f"s{i}" for i in range(5)}:
        messages = await store.messages(session)
        # Every turn whole (question then answer) or absent, and one usage row per turn.
        roles = [m.role for m in messages]
        assert roles == ["human", "ai"] * (len(roles) // 2), session
        assert all(m.complete for m in messages)
        assert len(roles) // 2 == by_session.get(session, 0), session
    await store.close()
