"""A ``blocking`` database: the same stores and queries on ``sqlite3``, in the awaiting loop.

What the runtime's async engine wrote, a blocking database reads (and the other way round),
encrypted, through the same ``HistoryStore`` and ``UsageLedger``; it upgrades a database an
older release left, losing nothing; its errors are the same ``StorageError``s; a forked
child opens connections of its own; PostgreSQL ignores the flag (asyncpg has no sync face)
and keeps its async engine on the bridge.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from sqlalchemy import text

from zero_llm import CallTrace, StorageError
from zero_llm.database import Database
from zero_llm.history import HistoryStore, NewMessage, generate_key
from zero_llm.migrations import MIGRATIONS
from zero_llm.usage import UsageLedger, UsageRecord


def turn() -> list[NewMessage]:
    """A question and its answer."""
    return [
        NewMessage(HumanMessage("what moves bond yields?"), 6),
        NewMessage(AIMessage("inflation expectations"), 3, model="llama3.1:8b", task="quick"),
    ]


def usage() -> UsageRecord:
    """A finished call's usage record."""
    trace = CallTrace(requested_model="llama3.1:8b", session_id="s1", model="llama3.1:8b")
    trace.finish(None)
    return UsageRecord.from_trace(trace, None)


async def write(database: Database, key: str) -> None:
    """One encrypted turn with its usage record, through the stores."""
    store = HistoryStore(database, key=key)
    await store.append("s1", turn(), usage=usage())
    await store.update_session("s1", title="bonds")


async def read(database: Database, key: str) -> tuple[list[str], str | None, list[str], int]:
    """What the record commands read: messages, the title, usage records and a summary."""
    store, ledger = HistoryStore(database, key=key), UsageLedger(database, key=key)
    messages = [m.content for m in await store.messages("s1")]
    [info] = await store.sessions()
    records = [r.model or "" for r in await ledger.records(session_id="s1")]
    [summary] = await ledger.summary()
    return messages, info.title, records, summary.calls


@pytest.mark.parametrize("blocking_writes", [False, True])
async def test_blocking_and_async_engines_share_one_sqlite_file(
    tmp_path: Path, blocking_writes: bool
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'history.sqlite3'}"
    key = generate_key()
    writer = Database(url, blocking=blocking_writes)
    reader = Database(url, blocking=not blocking_writes)
    await writer.call(write(writer, key))
    await writer.close()
    expected = (["what moves bond yields?", "inflation expectations"], "bonds", ["llama3.1:8b"], 1)
    assert await reader.call(read(reader, key)) == expected
    await reader.close()
    for database in (writer, reader):  # a blocking one runs in the awaiting loop, no bridge
        here = await database.call(running_loop()) is asyncio.get_running_loop()
        assert here is database.blocking
        await database.close()


async def running_loop() -> asyncio.AbstractEventLoop:
    """The loop this coroutine runs on."""
    return asyncio.get_running_loop()


async def test_a_blocking_database_upgrades_an_old_file_and_keeps_its_rows(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'history.sqlite3'}"
    old = Database(url, upgrades=MIGRATIONS[:1])  # as the first release left it

    async def seed() -> None:
        async with old.transaction() as connection:
            await connection.execute(
                text(
                    "INSERT INTO zl_sessions (id, title, metadata, created_at, updated_at,"
                    " message_count, next_seq, total_tokens)"
                    " VALUES ('old', 't', '{}', :stamp, :stamp, 0, 1, 0)"
                ).bindparams(stamp=datetime.now(UTC))
            )

    await old.call(seed())
    await old.close()

    database = Database(url, blocking=True)
    store = HistoryStore(database)
    info = await store.session("old")
    assert info is not None and info.title == "t"
    await store.append("old", turn())
    assert [m.seq for m in await store.messages("old")] == [1, 2]
    await database.close()


async def test_a_blocking_database_fails_as_a_storage_error(tmp_path: Path) -> None:
    folder = tmp_path / "not-a-file.sqlite3"
    folder.mkdir()
    database = Database(f"sqlite+aiosqlite:///{folder}", blocking=True)
    with pytest.raises(StorageError, match="the history store failed"):
        await HistoryStore(database).sessions()


async def test_postgresql_ignores_blocking(history_url: str) -> None:
    database = Database(history_url, blocking=True)
    assert database.blocking is history_url.startswith("sqlite")
    key = generate_key()
    await database.call(write(database, key))
    assert (await database.call(read(database, key)))[1] == "bonds"
    await database.close()


def _count_in_child(database: Database, results: Any) -> None:
    """In a forked child: read through the parent's blocking database object."""
    results.put(len(asyncio.run(HistoryStore(database).sessions())))


async def test_a_forked_child_opens_its_own_connections(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'history.sqlite3'}", blocking=True)
    store = HistoryStore(database)
    await store.append("s1", turn())  # the parent's pool now holds a connection
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    child = context.Process(target=_count_in_child, args=(database, results))
    child.start()
    child.join(30)
    assert child.exitcode == 0
    assert results.get(timeout=5) == 1
    assert len(await store.sessions()) == 1  # the parent's pool still works
    await database.close()
