"""Migrations upgrade a database from every earlier state; encryption leaves no plaintext.

Both on a real SQLite file and a real PostgreSQL database (the ``history_url`` fixture).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage
from sqlalchemy import TextClause, inspect, text

from zero_llm import CallTrace, InvalidRequestError
from zero_llm.database import Database
from zero_llm.history import HistoryStore, NewMessage, generate_key
from zero_llm.migrations import MIGRATIONS
from zero_llm.schema import metadata
from zero_llm.usage import UsageLedger, UsageRecord


async def live_columns(database: Database) -> dict[str, set[str]]:
    async def read() -> dict[str, set[str]]:
        async with database.transaction(read_only=True) as connection:
            return await connection.run_sync(
                lambda sync: {
                    name: {c["name"] for c in inspect(sync).get_columns(name)}
                    for name in inspect(sync).get_table_names()
                }
            )

    return await database.call(read())


@pytest.mark.parametrize("done", range(len(MIGRATIONS)))
async def test_upgrade_from_every_earlier_state(history_url: str, done: int) -> None:
    old = Database(history_url, upgrades=MIGRATIONS[:done])
    if done:  # a database as an older release left it, with a row in it

        async def seed() -> None:
            async with old.transaction() as connection:
                await connection.execute(_old_session_insert(datetime.now(UTC)))

        await old.call(seed())
    else:
        await old.call(_touch(old))
    await old.close()

    new = Database(history_url)
    columns = await live_columns(new)
    for table in metadata.sorted_tables:  # the live schema, every column of it
        assert columns[table.name] == {c.name for c in table.columns}, table.name
    await new.close()

    store = HistoryStore(history_url)
    await store.append("new", [NewMessage(HumanMessage("hello"), 1)])
    ledger = UsageLedger(store.database)
    trace = CallTrace(requested_model="llama3.1:8b", host="http://gpu-1:11434", cancelled=True)
    await ledger.write([UsageRecord.from_trace(trace, None)])
    (record,) = await ledger.records()
    assert record.status == "cancelled" and record.host == "http://gpu-1:11434"
    if done:
        info = await store.session("old")
        assert info is not None and info.title == "t"
    await store.close()


def _old_session_insert(stamp: datetime) -> TextClause:
    """A session row with only the columns 0001 had."""
    return text(
        "INSERT INTO zl_sessions (id, title, metadata, created_at, updated_at, message_count,"
        " next_seq, total_tokens) VALUES ('old', 't', '{}', :stamp, :stamp, 0, 1, 0)"
    ).bindparams(stamp=stamp)


async def _touch(database: Database) -> None:
    async with database.transaction(read_only=True):
        pass


async def test_titles_and_metadata_are_encrypted_at_rest(tmp_path: Path) -> None:
    path = tmp_path / "private.sqlite3"
    key = generate_key()
    store = HistoryStore(f"sqlite+aiosqlite:///{path}", key=key)
    await store.append("s1", [NewMessage(HumanMessage("the body"), 1)])
    await store.update_session(
        "s1", title="Merger of ACME", metadata={"client": "Globex", "deal": ["ACME"]}
    )
    info = await store.session("s1")
    assert info is not None and info.title == "Merger of ACME"
    assert info.metadata == {"client": "Globex", "deal": ["ACME"]}
    await store.update_session("s1", metadata={"stage": "due diligence"})
    (listed,) = await store.sessions()
    assert listed.metadata == {"client": "Globex", "deal": ["ACME"], "stage": "due diligence"}
    await store.close()

    raw = path.read_bytes() + b"".join(p.read_bytes() for p in tmp_path.glob("private.sqlite3-*"))
    for secret in (b"ACME", b"Globex", b"diligence", b"the body"):
        assert secret not in raw, secret
    with sqlite3.connect(path) as connection:
        title, meta = connection.execute("SELECT title, metadata FROM zl_sessions").fetchone()
    assert title.startswith("zlenc1:") and meta.startswith("zlenc1:")

    plain = HistoryStore(f"sqlite+aiosqlite:///{path}")  # without the key: a clear error
    with pytest.raises(Exception, match="encrypted"):
        await plain.session("s1")
    await plain.close()


async def test_hostile_session_metadata_and_titles(history_url: str) -> None:
    store = HistoryStore(history_url)
    deep: dict[str, object] = {}
    node = deep
    for _ in range(10_000):
        node["x"] = {}
        node = node["x"]  # type: ignore[assignment]
    with pytest.raises(InvalidRequestError, match="nests deeper"):
        await store.update_session("s", metadata=deep)
    with pytest.raises(InvalidRequestError, match="bytes"):
        await store.update_session("s", metadata={"blob": "x" * 200_000})
    with pytest.raises(InvalidRequestError, match="keys must be strings"):
        await store.update_session("s", metadata={1: "one"})  # type: ignore[dict-item]
    with pytest.raises(InvalidRequestError, match="NUL"):
        await store.update_session("s", title="a\x00b")
    with pytest.raises(InvalidRequestError, match="surrogate"):
        await store.update_session("s", title="a\ud800b")
    info = await store.update_session("s", title="fine", metadata={"k": {"nested": [1, 2]}})
    assert info.title == "fine" and info.metadata == {"k": {"nested": [1, 2]}}
    await store.close()
