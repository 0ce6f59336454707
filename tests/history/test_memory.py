"""The manager remembers conversations: query_model(session_id=...) and the runnable."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, HumanMessage, message_to_dict

from tests.conftest import fast_settings
from zero_llm import ModelManager, StorageError, StreamInterruptedError
from zero_llm.history import HistoryStore, generate_key, import_sql_chat_history
from zero_llm.testing import OllamaEmulator


@pytest.fixture
async def remembering(emulator: OllamaEmulator, tmp_path: Path):  # type: ignore[no-untyped-def]
    manager = ModelManager(fast_settings(emulator.base_url, home=tmp_path / "home"))
    yield manager
    await manager.aclose()


def sent_messages(emulator: OllamaEmulator) -> list[tuple[str, str]]:
    body = emulator.requests_to("/api/chat")[-1].body
    assert body is not None
    return [(m["role"], m["content"]) for m in body["messages"]]


async def test_turns_are_stored_and_sent_back(
    remembering: ModelManager, emulator: OllamaEmulator
) -> None:
    first = await remembering.query_model("llama", "My name is Dana.", session_id="s1")
    await remembering.query_model("llama", "What is my name?", context="Be brief.", session_id="s1")
    assert sent_messages(emulator) == [
        ("system", "Be brief."),
        ("user", "My name is Dana."),
        ("assistant", str(first)),
        ("user", "What is my name?"),
    ]
    stored = await remembering.history.messages("s1")
    assert [(m.role, m.model) for m in stored] == [
        ("human", None),
        ("ai", "llama3.1:8b"),
        ("human", None),
        ("ai", "llama3.1:8b"),
    ]
    assert all(m.token_count > 0 for m in stored)
    assert (tmp := remembering.settings.home / "history.sqlite3").exists(), tmp


async def test_thinking_is_stored_for_audit_but_never_resent(
    remembering: ModelManager, emulator: OllamaEmulator
) -> None:
    await remembering.query_model("deepseek", "Why did $SPY fall?", session_id="t")
    stream = await remembering.query_model("deepseek", "And now?", stream=True, session_id="t")
    await stream.text()
    stored = await remembering.history.messages("t")
    assert stored[1].reasoning and stored[1].reasoning.startswith("Let me think")
    assert all("Let me think" not in content for _, content in sent_messages(emulator))
    assert len(stored) == 4


async def test_without_a_session_nothing_is_stored(
    remembering: ModelManager,
) -> None:
    await remembering.query_model("llama", "no memory")
    await remembering.flush_usage()
    assert await remembering.history.sessions() == []
    assert len(await remembering.usage.records()) == 1  # the call is measured all the same


async def test_failed_and_cut_answers_are_not_stored(
    remembering: ModelManager, emulator: OllamaEmulator
) -> None:
    await remembering.query_model("llama", "kept turn", session_id="f")
    emulator.faults.fail_next(1, status=400, message="bad")
    with pytest.raises(Exception, match="bad"):
        await remembering.query_model("llama", "rejected", session_id="f")
    emulator.faults.cut_stream_after(3)
    stream = await remembering.query_model("llama", "cut short", stream=True, session_id="f")
    with pytest.raises(StreamInterruptedError):
        await stream.text()
    assert [m.content for m in await remembering.history.messages("f")] == [
        "kept turn",
        "[llama3.1:8b] You said: kept turn",
    ]


async def test_a_long_session_loads_only_what_fits(
    remembering: ModelManager, emulator: OllamaEmulator
) -> None:
    from zero_llm.history import NewMessage

    text = "market data point " * 120
    await remembering.history.append(
        "long",
        [
            NewMessage(
                HumanMessage(f"q{i} {text}") if i % 2 == 0 else AIMessage(f"a{i} {text}"), 370
            )
            for i in range(200)
        ],
    )
    answer = await remembering.query_model("qwen", "summary?", session_id="long")
    sent = sent_messages(emulator)
    assert 1 < len(sent) < 201 and sent[-1] == ("user", "summary?")
    assert sent[0][0] == "user" and sent[-2][1].startswith("a199")
    budget = remembering.profiles.budget_for(remembering.spec("qwen"), 32768).prompt_tokens
    assert answer.trace.prompt_tokens == answer.trace.prompt_tokens_counted <= budget


async def test_the_runnable_remembers_by_session_id(
    remembering: ModelManager, emulator: OllamaEmulator
) -> None:
    runnable = remembering.as_runnable()
    await runnable.ainvoke({"input": "first", "session_id": "r"})
    chunks = [c async for c in runnable.astream({"input": "second", "session_id": "r"})]
    assert "second" in "".join(str(c.content) for c in chunks)
    assert [m.content for m in await remembering.history.messages("r")][::2] == ["first", "second"]
    assert ("user", "first") in sent_messages(emulator)


def test_sync_queries_remember_too(remembering: ModelManager) -> None:
    remembering.query_model_sync("llama", "sync one", session_id="y")
    assert "".join(remembering.query_model_sync("llama", "sync two", stream=True, session_id="y"))
    sessions = remembering.history_sync.sessions()
    assert [s.id for s in sessions] == ["y"] and sessions[0].message_count == 4


async def test_encrypted_history_through_settings(
    emulator: OllamaEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = generate_key()
    monkeypatch.setenv("ZERO_LLM_HISTORY_KEY", key)
    manager = ModelManager(fast_settings(emulator.base_url, home=tmp_path))
    await manager.query_model("llama", "top secret plan", session_id="enc")
    raw = (
        sqlite3.connect(tmp_path / "history.sqlite3")
        .execute("SELECT content FROM zl_messages")
        .fetchall()
    )
    assert all(row[0].startswith("zlenc1:") for row in raw)
    monkeypatch.delenv("ZERO_LLM_HISTORY_KEY")
    keyless = ModelManager(fast_settings(emulator.base_url, home=tmp_path))
    with pytest.raises(StorageError, match="encrypted"):
        await keyless.query_model("llama", "again", session_id="enc")
    assert len(await manager.history.messages("enc")) == 2  # nothing lost, nothing added


async def test_import_from_sql_chat_message_history(tmp_path: Path) -> None:
    source = tmp_path / "old.sqlite3"
    db = sqlite3.connect(source)
    db.execute(
        "CREATE TABLE message_store (id INTEGER PRIMARY KEY AUTOINCREMENT, "
        "session_id TEXT, message TEXT)"
    )
    old = {
        "alpha": [HumanMessage("hi"), AIMessage("hello"), HumanMessage("שלום 🚀")],
        "beta": [HumanMessage("x")],
    }
    for session, messages in old.items():
        for message in messages:
            db.execute(
                "INSERT INTO message_store (session_id, message) VALUES (?, ?)",
                (session, json.dumps(message_to_dict(message))),
            )
    db.commit()
    db.close()
    store = HistoryStore(f"sqlite+aiosqlite:///{tmp_path / 'new.sqlite3'}")
    report = await import_sql_chat_history(f"sqlite+aiosqlite:///{source}", store)
    assert (report.sessions, report.messages, report.skipped_sessions) == (2, 4, [])
    for session, messages in old.items():
        assert [m.to_message() for m in await store.messages(session)] == messages
    again = await import_sql_chat_history(f"sqlite+aiosqlite:///{source}", store)
    assert again.skipped_sessions == ["alpha", "beta"] and again.messages == 0
    with pytest.raises(StorageError, match="nope"):
        await import_sql_chat_history(f"sqlite+aiosqlite:///{source}", store, table_name="nope")


async def test_session_ids_are_used_verbatim(remembering: ModelManager) -> None:
    await remembering.query_model("llama", "with a trailing space", session_id="1 ")
    await remembering.query_model("llama", "without", session_id="1")
    spaced = await remembering.history.messages("1 ")
    assert [m.role for m in spaced] == ["human", "ai"]
    assert spaced[0].content == "with a trailing space"
    assert len(await remembering.history.messages("1")) == 2
