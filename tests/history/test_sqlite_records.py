"""The record commands' ``sqlite3`` read path answers exactly what the stores answer.

Two witnesses: the SQL it runs is, text for text, what SQLAlchemy compiles the stores' own
statements to (every filter combination); and on a real history that the stores wrote
(encrypted or not; tool calls, reasoning, failures, emulated answers, several sessions and
times), every read it offers returns objects equal to the stores'. A history that needs the
stores first (a pending migration, a key's first use, a wrong key, an unfinished rotation)
is refused with ``NeedsFullStore``; a missing file reads as empty and is not created.
"""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from sqlalchemy import Boolean, DateTime
from sqlalchemy.dialects import sqlite

from zero_llm import ZeroLLMSettings
from zero_llm.database import Database, applied_migrations_query
from zero_llm.history import HistoryStore, NewMessage, generate_key
from zero_llm.history.keys import ROW, key_state_query
from zero_llm.history.store import messages_query, session_query, sessions_query
from zero_llm.migrations import MIGRATIONS
from zero_llm.schema import zl_keys, zl_messages, zl_migrations, zl_sessions, zl_usage
from zero_llm.sqlite_records import (
    BOOLEAN_COLUMNS,
    DATETIME_COLUMNS,
    KEY_ROW,
    KEY_SQL,
    MIGRATION_NAMES,
    MIGRATIONS_SQL,
    SESSION_SQL,
    SESSIONS_SQL,
    USAGE_FILTERS,
    NeedsFullStore,
    SQLiteRecords,
    messages_sql,
    run_to_end,
    sqlite_time,
    usage_records_sql,
)
from zero_llm.usage import UsageLedger, UsageRecord
from zero_llm.usage.ledger import usage_records_query

START = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)


def compiled(statement: Any) -> str:
    return str(statement.compile(dialect=sqlite.dialect()))


def test_the_sql_is_what_sqlalchemy_compiles_the_stores_statements_to() -> None:
    assert compiled(sessions_query(10, 0)) == SESSIONS_SQL
    assert compiled(session_query("s")) == SESSION_SQL
    for limit, before in itertools.product((None, 5), (None, 3)):
        statement = messages_query("s", limit=limit, before_seq=before)
        wanted = messages_sql(limited=limit is not None, before_seq=before is not None)
        assert compiled(statement) == wanted, (limit, before)
    names = [name for name, _ in USAGE_FILTERS]
    for used in itertools.product((False, True), repeat=len(names)):
        chosen = [n for n, u in zip(names, used, strict=True) if u]
        given = {n: (START if n in ("since", "until") else "x") for n in chosen}
        statement = usage_records_query(**given)
        assert compiled(statement) == usage_records_sql(tuple(given)), given
    assert compiled(key_state_query()) == KEY_SQL
    assert compiled(applied_migrations_query()) == MIGRATIONS_SQL


def test_the_constants_are_the_schemas_and_the_migrations() -> None:
    assert tuple(m.name for m in MIGRATIONS) == MIGRATION_NAMES
    assert KEY_ROW == ROW
    tables = (zl_sessions, zl_messages, zl_usage, zl_keys, zl_migrations)
    columns = [c for t in tables for c in t.columns]
    assert {c.name for c in columns if isinstance(c.type, DateTime)} == DATETIME_COLUMNS
    assert {c.name for c in columns if isinstance(c.type, Boolean)} == BOOLEAN_COLUMNS
    # No other column of those names holds anything else (the reader types by name).
    for column in columns:
        if column.name in DATETIME_COLUMNS:
            assert isinstance(column.type, DateTime), column
        if column.name in BOOLEAN_COLUMNS:
            assert isinstance(column.type, Boolean), column


def test_times_bind_as_sqlalchemy_binds_them() -> None:
    dialect = sqlite.dialect()
    processor = zl_usage.c.created_at.type.dialect_impl(dialect).bind_processor(dialect)
    assert processor is not None
    for value in (START, START.replace(microsecond=0), datetime(2026, 1, 2, 3, 4, 5)):
        assert sqlite_time(value) == processor(value)


def record(i: int, **overrides: Any) -> UsageRecord:
    """Call ``i``'s usage record: models, tasks and sessions vary; some failed or emulated."""
    values: dict[str, Any] = {
        "request_id": f"req-{i}",
        "created_at": START + timedelta(hours=i),
        "session_id": f"s{i % 3}" if i % 4 else None,
        "task": ("quick", "code", "analysis")[i % 3],
        "route_reason": "rule",
        "requested_model": "llama3.1:8b",
        "model": ("llama3.1:8b", "qwen2.5-coder:32b")[i % 2],
        "fallbacks": [{"model": "deepseek-r1:32b", "message": f"fell back {i}"}] if i == 5 else [],
        "num_ctx": 8192,
        "attempts": 1 + (i == 7),
        "retries": [{"attempt": 1, "message": "busy, prompt was: secret"}] if i == 7 else [],
        "error_type": "OllamaServerError" if i == 6 else None,
        "error": "the runner crashed on: secret prompt" if i == 6 else None,
        "streamed": i % 2 == 0,
        "latency_s": 0.5 + i / 10,
        "first_token_s": 0.1 if i != 6 else None,
        "load_duration_s": 0.0,
        "prompt_eval_duration_s": 0.05,
        "eval_duration_s": 0.4,
        "cold_load": i == 1,
        "prompt_tokens": 10 + i,
        "prompt_tokens_counted": 10 + i,
        "output_tokens": 20 + i,
        "thinking_tokens": 7 if i == 2 else None,
        "tokens_per_second": 50.0,
        "done_reason": "stop",
        "truncation_suspected": i == 3,
        "dropped_messages": 0,
        "status": "error" if i == 6 else "ok",
        "emulated": i == 8,
    }
    values.update(overrides)
    return UsageRecord(**values)


async def write_history(path: Path, key: str | None) -> None:
    """Three conversations (one with reasoning, a tool call and its result) and 10 records."""
    database = Database(f"sqlite+aiosqlite:///{path}")
    store = HistoryStore(database, key=key)
    for n in range(3):
        session = f"s{n}"
        await store.append(
            session,
            [
                NewMessage(HumanMessage(f"question {n}: what moves yields?"), 8),
                NewMessage(
                    AIMessage(
                        "",
                        tool_calls=[{"name": "price", "args": {"t": "TLT"}, "id": f"c{n}"}],
                    ),
                    5,
                    model="qwen2.5-coder:32b",
                    task="code",
                ),
                NewMessage(ToolMessage("TLT 91.2", tool_call_id=f"c{n}"), 4),
                NewMessage(
                    AIMessage([{"type": "text", "text": f"answer {n}"}]),
                    3,
                    model="deepseek-r1:32b",
                    task="analysis",
                    reasoning="thinking it over",
                ),
            ],
            usage=record(100 + n, session_id=session),
        )
        await store.update_session(session, title=f"title {n}", metadata={"n": n, "tags": ["a"]})
    await UsageLedger(database, key=key).write([record(i) for i in range(10)])
    await database.close()


async def store_reads(path: Path, key: str | None) -> dict[str, Any]:
    """Every read the reader offers, answered by the stores."""
    database = Database(f"sqlite+aiosqlite:///{path}")
    store, ledger = HistoryStore(database, key=key), UsageLedger(database, key=key)
    try:
        return await every_read(store, ledger)
    finally:
        await database.close()


async def every_read(history: Any, usage: Any) -> dict[str, Any]:
    reads: dict[str, Any] = {
        "sessions": await history.sessions(),
        "page": await history.sessions(limit=2, offset=1),
        "session": await history.session("s1"),
        "missing": await history.session("nobody"),
        "messages": await history.messages("s2"),
        "newest": await history.messages("s2", limit=2),
        "before": await history.messages("s2", limit=2, before_seq=3),
        "summary": await usage.summary(),
        "by model": await usage.summary("model", include_emulated=True),
        "by session": await usage.summary("session", since=START + timedelta(hours=2)),
    }
    names = [name for name, _ in USAGE_FILTERS]
    values = {
        "model": "qwen2.5-coder:32b",
        "task": "quick",
        "session_id": "s1",
        "since": START + timedelta(hours=3),
        "until": START + timedelta(hours=8, minutes=1),
    }
    for used in itertools.product((False, True), repeat=len(names)):
        given = {n: values[n] for n, u in zip(names, used, strict=True) if u}
        reads[f"records {sorted(given)}"] = await usage.records(**given)
    reads["records limited"] = await usage.records(limit=3)
    return reads


def settings_for(home: Path, key: str | None) -> ZeroLLMSettings:
    return ZeroLLMSettings(home=home, history_key=key)


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
def test_every_read_equals_the_stores(tmp_path: Path, encrypted: bool) -> None:
    key = generate_key() if encrypted else None
    path = tmp_path / "history.sqlite3"
    asyncio.run(write_history(path, key))
    wanted = asyncio.run(store_reads(path, key))
    records = SQLiteRecords.open(settings_for(tmp_path, key))
    try:
        got = run_to_end(every_read(records.history, records.usage))
    finally:
        records.close()
    assert got.keys() == wanted.keys()
    for name in wanted:
        assert got[name] == wanted[name], name
    assert len(got["sessions"]) == 3 and got["session"].title == "title 1"
    assert got["messages"][3].reasoning == "thinking it over"
    assert got["records []"][6].error == "the runner crashed on: secret prompt"  # opened
    assert sum(len(v) for k, v in got.items() if k.startswith("records")) > 10


def test_without_the_key_sealed_text_reads_as_the_stores_read_it(tmp_path: Path) -> None:
    key = generate_key()
    path = tmp_path / "history.sqlite3"
    asyncio.run(write_history(path, key))
    database_reads = asyncio.run(keyless_store_reads(path))
    records = SQLiteRecords.open(settings_for(tmp_path, None))
    try:
        usage = run_to_end(records.usage.records())
        with pytest.raises(Exception, match="this history is encrypted") as raised:
            run_to_end(records.history.sessions())
    finally:
        records.close()
    assert usage == database_reads["records"]
    assert usage[6].error == "[encrypted]"  # a placeholder, as the ledger shows
    assert type(raised.value) is type(database_reads["sessions error"])


async def keyless_store_reads(path: Path) -> dict[str, Any]:
    database = Database(f"sqlite+aiosqlite:///{path}")
    try:
        out: dict[str, Any] = {"records": await UsageLedger(database).records()}
        try:
            await HistoryStore(database).sessions()
        except Exception as exc:  # what the store raises for sealed titles without the key
            out["sessions error"] = exc
        return out
    finally:
        await database.close()


def test_a_history_that_needs_the_stores_is_refused(tmp_path: Path) -> None:
    key = generate_key()
    path = tmp_path / "history.sqlite3"
    asyncio.run(write_history(path, key))
    with pytest.raises(NeedsFullStore, match="not the history's key"):
        SQLiteRecords.open(settings_for(tmp_path, generate_key()))
    plain = tmp_path / "plain"
    plain.mkdir()
    asyncio.run(write_history(plain / "history.sqlite3", None))
    with pytest.raises(NeedsFullStore, match="first use"):
        SQLiteRecords.open(settings_for(plain, key))  # sealing a plain history writes
    older = tmp_path / "older"
    older.mkdir()
    url = f"sqlite+aiosqlite:///{older / 'history.sqlite3'}"
    asyncio.run(database_session(Database(url, upgrades=MIGRATIONS[:4], blocking=True)))
    with pytest.raises(NeedsFullStore, match="migration is pending"):
        SQLiteRecords.open(settings_for(older, None))
    own_url = ZeroLLMSettings(home=tmp_path, history_url=f"sqlite+aiosqlite:///{path}")
    with pytest.raises(NeedsFullStore, match="history_url"):
        SQLiteRecords.open(own_url)


async def database_session(database: Database) -> None:
    async with database.transaction():
        pass
    await database.close()


def test_a_missing_history_reads_as_empty_and_is_not_created(tmp_path: Path) -> None:
    records = SQLiteRecords.open(settings_for(tmp_path / "home", None))
    assert run_to_end(records.history.sessions()) == []
    assert run_to_end(records.history.session("s1")) is None
    assert run_to_end(records.usage.summary()) == []
    records.close()
    assert not (tmp_path / "home").exists()
