"""One key per database: every field sealed, the key check value, key files, rotation."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from sqlalchemy import text
from typer.testing import CliRunner

from zero_llm import ConfigurationError, StorageError
from zero_llm.answer import CallTrace, FallbackStep, RetryStep
from zero_llm.cli import app
from zero_llm.database import Database
from zero_llm.history import HistoryStore, NewMessage, generate_key
from zero_llm.history import keys as keys_module
from zero_llm.history.crypto import load_key
from zero_llm.history.keys import key_state, rotate_key
from zero_llm.usage import UsageLedger, UsageRecord

SECRET = "Zanzibar"


def tool_turn() -> list[NewMessage]:
    """A tool round whose arguments, name and artifact all hold the secret word."""
    call = {"name": "weather", "args": {"city": SECRET}, "id": "call-1", "type": "tool_call"}
    return [
        NewMessage(HumanMessage("what is the weather?", name=f"user-{SECRET}"), 5),
        NewMessage(AIMessage("", tool_calls=[call]), 5, model="llama3.1:8b"),
        NewMessage(
            ToolMessage("sunny", tool_call_id="call-1", name="weather", artifact={"raw": SECRET}),
            3,
        ),
    ]


def failed_usage() -> UsageRecord:
    """A usage record whose error text echoes a prompt word, as Ollama's errors do."""
    trace = CallTrace(requested_model="llama3.1:8b", session_id="s")
    trace.retries.append(RetryStep("llama3.1:8b", 1, "OllamaServerError", f"saw {SECRET}", 0.1))
    trace.fallbacks.append(FallbackStep("llama3.1:8b", "OllamaServerError", f"no {SECRET}"))
    trace.finish(RuntimeError(f"Ollama said: unexpected token near '{SECRET}'"))
    return UsageRecord.from_trace(trace, None)


async def raw_rows(url: str, query: str) -> list[tuple[object, ...]]:
    """Rows as they lie in the database, read past the store."""
    database = Database(url)

    async def read() -> list[tuple[object, ...]]:
        async with database.transaction(read_only=True) as connection:
            return [tuple(r) for r in (await connection.execute(text(query))).all()]

    try:
        return await database.call(read())
    finally:
        await database.close()


async def test_every_field_a_message_carries_is_sealed(history_url: str) -> None:
    key = generate_key()
    store = HistoryStore(history_url, key=key)
    await store.append("s", tool_turn(), usage=failed_usage())
    extras = await raw_rows(history_url, "SELECT extra FROM zl_messages")
    usage = await raw_rows(
        history_url, "SELECT error, retries, fallbacks, fallback_note FROM zl_usage"
    )
    for value in [*extras, *usage]:
        assert SECRET not in str(value), value
    assert all(str(e).startswith("zlenc1:") for (e,) in extras)
    # Read back whole with the key.
    human, ai, tool = [m.to_message() for m in await store.messages("s")]
    assert human.name == f"user-{SECRET}"
    assert isinstance(ai, AIMessage) and ai.tool_calls[0]["args"] == {"city": SECRET}
    assert isinstance(tool, ToolMessage) and tool.artifact == {"raw": SECRET}
    (record,) = await UsageLedger(store.database, key=key).records()
    assert record.error is not None and SECRET in record.error
    assert SECRET in record.retries[0]["message"] and SECRET in record.fallbacks[0]["message"]
    # Without the key the usage figures stay readable, the text does not.
    (blind,) = await UsageLedger(store.database).records()
    assert blind.error == "[encrypted]" and blind.retries[0]["message"] == "[encrypted]"
    assert blind.requested_model == "llama3.1:8b" and blind.status == "error"
    await store.close()


async def test_the_first_key_seals_what_earlier_versions_left_in_clear(history_url: str) -> None:
    # An earlier version: sealed content, but clear extra and usage text, and no key check.
    key = generate_key()
    store = HistoryStore(history_url, key=key)
    await store.append("s", tool_turn())
    await store.close()
    database = Database(history_url)

    async def as_an_earlier_version_left_it() -> None:
        async with database.transaction() as connection:
            call = {"name": "weather", "args": {"city": SECRET}, "id": "c1", "type": "tool_call"}
            clear = json.dumps({"tool_calls": [call]})
            await connection.execute(
                text("UPDATE zl_messages SET extra = :e WHERE seq = 2"), {"e": clear}
            )
            await connection.execute(text("DELETE FROM zl_keys"))

    await database.call(as_an_earlier_version_left_it())
    await UsageLedger(database).write([failed_usage()])  # written without a key, in clear
    await database.close()
    assert any(
        SECRET in str(r) for r in await raw_rows(history_url, "SELECT extra FROM zl_messages")
    )

    # Another key is refused before it seals anything with itself.
    wrong = HistoryStore(history_url, key=generate_key())
    with pytest.raises(StorageError, match="not the one"):
        await wrong.sessions()
    await wrong.close()
    assert (await raw_rows(history_url, "SELECT count(*) FROM zl_keys")) == [(0,)]

    # The right key seals what is in clear on first use, and records its check value.
    store = HistoryStore(history_url, key=key)
    (info,) = await store.sessions()
    assert info.id == "s"
    everything = await raw_rows(
        history_url,
        "SELECT content, extra FROM zl_messages UNION ALL SELECT error, retries FROM zl_usage",
    )
    assert all(SECRET not in str(row) for row in everything), everything
    ai = (await store.messages("s"))[1].to_message()
    assert isinstance(ai, AIMessage) and ai.tool_calls[0]["args"] == {"city": SECRET}
    state = await store.database.call(key_state(store.database))
    assert state.check_value is not None and state.rotating_to is None
    await store.close()


async def test_an_encrypted_database_refuses_plain_writers_and_wrong_keys(
    history_url: str,
) -> None:
    key = generate_key()
    store = HistoryStore(history_url, key=key)
    await store.append("s", [NewMessage(HumanMessage("private"), 2)])
    plain = HistoryStore(history_url)
    with pytest.raises(StorageError, match="encrypted"):
        await plain.append("new", [NewMessage(HumanMessage("in clear"), 2)])
    with pytest.raises(StorageError, match="encrypted"):
        await plain.update_session("new", title="in clear")
    with pytest.raises(StorageError, match="encrypted"):
        await UsageLedger(history_url).write([failed_usage()])
    wrong = HistoryStore(history_url, key=generate_key())
    with pytest.raises(StorageError, match="not the one"):
        await wrong.append("other", [NewMessage(HumanMessage("lost later"), 2)])
    with pytest.raises(StorageError, match="not the one"):
        await wrong.sessions()
    assert [s.id for s in await store.sessions()] == ["s"]  # nothing was written
    assert await raw_rows(history_url, "SELECT count(*) FROM zl_usage") == [(0,)]
    for other in (plain, wrong, store):
        await other.close()


def test_key_files_open_to_others_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "history.key"
    path.write_text(generate_key())
    path.chmod(0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        load_key(None, path)
    path.chmod(0o660)
    with pytest.raises(ConfigurationError, match="other users"):
        load_key(None, path)
    path.chmod(0o600)
    assert load_key(None, path) == path.read_text().strip()


def test_doctor_fails_a_key_file_open_to_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "history.key"
    path.write_text(generate_key())
    path.chmod(0o666)
    monkeypatch.setenv("ZERO_LLM_HISTORY_KEY_FILE", str(path))
    monkeypatch.setenv("OLLAMA_HOST", "http://127.0.0.1:9")  # nothing there: a fast fail
    result = CliRunner().invoke(app, ["doctor"], catch_exceptions=False)
    assert result.exit_code == 1
    assert "chmod 600" in result.output


async def filled(url: str, key: str | None, sessions: int) -> HistoryStore:
    """A store with ``sessions`` sessions of one tool round each, and usage rows."""
    store = HistoryStore(url, key=key)
    for index in range(sessions):
        await store.append(f"s{index}", tool_turn(), usage=failed_usage())
    return store


async def test_rotation_is_crash_safe_and_resumable(
    history_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keys_module, "BATCH", 2)
    old, new = generate_key(), generate_key()
    store = await filled(history_url, old, 4)
    database = store.database
    before = [m.to_json() for m in await store.messages("s3")]

    class Crash(Exception):
        pass

    def crash_after_two_batches(table: str, done: int) -> None:
        if done >= 4:
            raise Crash(table)

    with pytest.raises(Crash):
        await database.call(rotate_key(database, old, new, crash_after_two_batches))
    state = await database.call(key_state(database))
    assert state.rotating_to is not None and state.progress  # stopped half-way, marked
    writer = HistoryStore(history_url, key=old)
    with pytest.raises(StorageError, match="unfinished"):
        await writer.append("s9", [NewMessage(HumanMessage("meanwhile"), 2)])
    with pytest.raises(StorageError, match="another key"):
        await database.call(rotate_key(database, old, generate_key()))

    resealed = await database.call(rotate_key(database, old, new))
    assert resealed == 4 * 3 + 4 + 4 - 4  # messages, sessions, usage less the 4 done before
    rotated = HistoryStore(history_url, key=new)
    after = [m.to_json() for m in await rotated.messages("s3")]
    assert [(m["content"], m["extra"]) for m in after] == [
        (m["content"], m["extra"]) for m in before
    ]
    (record, *_) = await UsageLedger(database, key=new).records()
    assert record.error is not None and SECRET in record.error
    with pytest.raises(StorageError, match="not the one"):
        await HistoryStore(history_url, key=old).messages("s0")
    for other in (writer, rotated, store):
        await other.close()


def test_rotate_key_command_encrypts_a_plain_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'history.sqlite3'}"
    monkeypatch.setenv("ZERO_LLM_HISTORY_URL", url)
    store = asyncio.run(filled(url, None, 3))
    asyncio.run(store.close())
    key_file = tmp_path / "new.key"
    key_file.write_text(generate_key())
    key_file.chmod(0o600)
    runner = CliRunner()
    result = runner.invoke(app, ["history", "rotate-key", "--new-key-file", str(key_file)])
    assert result.exit_code == 0, result.output
    assert "now sealed" in result.output
    raw = (tmp_path / "history.sqlite3").read_bytes()
    assert SECRET.encode() not in raw
    key_file.chmod(0o644)
    refused = runner.invoke(app, ["history", "rotate-key", "--new-key-file", str(key_file)])
    assert refused.exit_code == 1 and "chmod 600" in refused.output

    async def read_back() -> str:
        keyed = HistoryStore(url, key=key_file.read_text().strip())
        try:
            messages = await keyed.messages("s2")
            return str(messages[1].extra)
        finally:
            await keyed.close()

    assert SECRET in asyncio.run(read_back())


async def test_a_plain_writer_started_before_the_key_is_refused_after(history_url: str) -> None:
    plain = HistoryStore(history_url)
    await plain.append("early", [NewMessage(HumanMessage("before any key"), 2)])
    keyed = HistoryStore(history_url, key=generate_key())
    await keyed.sessions()  # the first use of a key: everything sealed, check value stored
    with pytest.raises(StorageError, match="encrypted"):
        await plain.append("late", [NewMessage(HumanMessage("would be in clear"), 2)])
    assert [s.id for s in await keyed.sessions()] == ["early"]
    for store in (plain, keyed):
        await store.close()


def test_doctor_fails_a_missing_or_wrong_key_for_an_encrypted_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'history.sqlite3'}"
    monkeypatch.setenv("ZERO_LLM_HISTORY_URL", url)
    monkeypatch.setenv("OLLAMA_HOST", "http://127.0.0.1:9")  # nothing there: a fast fail
    store = asyncio.run(filled(url, generate_key(), 1))
    asyncio.run(store.close())
    runner = CliRunner()
    keyless = runner.invoke(app, ["doctor"], catch_exceptions=False)
    assert keyless.exit_code == 1 and "may not write" in keyless.output
    monkeypatch.setenv("ZERO_LLM_HISTORY_KEY", generate_key())
    wrong = runner.invoke(app, ["doctor"], catch_exceptions=False)
    assert wrong.exit_code == 1 and "not the one" in wrong.output
