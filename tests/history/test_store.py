"""The SQL history store, on a real SQLite file and a real PostgreSQL server alike."""

from __future__ import annotations

import asyncio
import json
import os
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

from zero_llm import ConfigurationError, InvalidRequestError, StorageError
from zero_llm.history import (
    HistoryStore,
    NewMessage,
    SyncHistoryStore,
    ZeroChatMessageHistory,
    generate_key,
)

ALL_KINDS: list[BaseMessage] = [
    SystemMessage("You are ZERO."),
    HumanMessage("שלום! מה המצב של $TEVA? 🚀"),
    AIMessage("", tool_calls=[{"name": "quote", "args": {"ticker": "TEVA"}, "id": "c1"}]),
    ToolMessage('{"price": 17.2}', tool_call_id="c1", name="quote"),
    AIMessage("TEVA trades at 17.2 — up 3% 📈", additional_kwargs={"note": "x"}),
    HumanMessage([{"type": "text", "text": "multi-part content"}]),
]


def turn(store: HistoryStore, session: str, question: str, answer: str) -> list[NewMessage]:
    return [
        NewMessage(HumanMessage(question), len(question.split()) + 5, task="quick"),
        NewMessage(
            AIMessage(answer),
            len(answer.split()) + 5,
            model="llama3.1:8b",
            reasoning="thought about it",
        ),
    ]


async def test_round_trip_of_every_message_kind(history_url: str) -> None:
    store = HistoryStore(history_url)
    seqs = await store.append("s1", [NewMessage(m, 10) for m in ALL_KINDS])
    assert seqs == [1, 2, 3, 4, 5, 6]
    back = [m.to_message() for m in await store.messages("s1")]
    assert back == ALL_KINDS
    await store.close()


async def test_reasoning_is_stored_apart_and_never_resent(history_url: str) -> None:
    store = HistoryStore(history_url)
    await store.append("s", turn(store, "s", "why?", "because"))
    stored = await store.messages("s")
    assert stored[1].reasoning == "thought about it" and stored[1].model == "llama3.1:8b"
    assert "thought" not in str(stored[1].to_message().content)
    assert stored[0].task == "quick"
    await store.close()


async def test_window_loads_only_the_newest_that_fit(history_url: str) -> None:
    store = HistoryStore(history_url)
    for i in range(50):
        await store.append("long", [NewMessage(HumanMessage(f"m{i}"), 10)])
    window = await store.window("long", 95)
    assert [m.content for m in window] == [f"m{i}" for i in range(41, 50)]
    assert await store.window("long", 0) == []
    assert len(await store.window("long", 10_000)) == 50
    assert await store.window("nobody", 100) == []
    page = await store.messages("long", limit=5, before_seq=11)
    assert [m.seq for m in page] == [6, 7, 8, 9, 10]
    await store.close()


async def test_incomplete_messages_stay_out_of_the_window(history_url: str) -> None:
    store = HistoryStore(history_url)
    await store.append(
        "s",
        [NewMessage(HumanMessage("q"), 5), NewMessage(AIMessage("half an ans"), 5, complete=False)],
    )
    assert [m.content for m in await store.window("s", 100)] == ["q"]
    assert [m.complete for m in await store.messages("s")] == [True, False]
    await store.close()


async def test_sessions_api(history_url: str) -> None:
    store = HistoryStore(history_url)
    await store.append("a", turn(store, "a", "one", "two"))
    await store.append("b", turn(store, "b", "three", "four"))
    assert [s.id for s in await store.sessions()] == ["b", "a"]
    info = await store.update_session("a", title="Trading ideas", metadata={"owner": "dana"})
    assert info.title == "Trading ideas" and info.metadata == {"owner": "dana"}
    info = await store.update_session("a", metadata={"tag": "x"})
    assert info.metadata == {"owner": "dana", "tag": "x"} and info.message_count == 2
    exported = await store.export_session("a")
    assert json.loads(json.dumps(exported))["messages"][1]["reasoning"] == "thought about it"
    assert exported["title"] == "Trading ideas"
    assert await store.delete_session("a") is True
    assert await store.delete_session("a") is False
    assert await store.session("a") is None and await store.messages("a") == []
    with pytest.raises(InvalidRequestError, match="no session"):
        await store.export_session("a")
    await store.close()


async def test_retention(history_url: str) -> None:
    store = HistoryStore(history_url)
    for i in range(10):
        await store.append("busy", [NewMessage(HumanMessage(f"m{i}"), 1)])
    await store.append("idle", [NewMessage(HumanMessage("old"), 1)])
    assert await store.apply_retention(max_messages=4) == 6
    assert [m.content for m in await store.messages("busy")] == ["m6", "m7", "m8", "m9"]
    assert (await store.session("busy")).message_count == 4  # type: ignore[union-attr]
    await store.append("busy", [NewMessage(HumanMessage("m10"), 1)])
    assert [m.seq for m in await store.messages("busy")][-1] == 11
    await asyncio.sleep(0.05)
    await store.append("busy", [NewMessage(HumanMessage("fresh"), 1)])
    assert await store.apply_retention(max_age=timedelta(seconds=0.04)) == 1
    assert await store.session("idle") is None and await store.session("busy") is not None
    await store.close()


@pytest.mark.parametrize(
    "session_id",
    ["x'; DROP TABLE zl_messages; --", "../../etc/passwd", 'a"b\\c', "סשן 1 🚀", "%_*"],
)
async def test_hostile_session_ids_are_just_ids(history_url: str, session_id: str) -> None:
    store = HistoryStore(history_url)
    await store.append(session_id, [NewMessage(HumanMessage("hi"), 2)])
    await store.append("other", [NewMessage(HumanMessage("keep me"), 2)])
    assert [m.content for m in await store.messages(session_id)] == ["hi"]
    assert {s.id for s in await store.sessions()} == {session_id, "other"}
    await store.close()


@pytest.mark.parametrize("bad", ["", "   ", None, 5, "x" * 256, "nul\x00byte"])
async def test_bad_session_ids_are_refused(tmp_path: Path, bad: object) -> None:
    store = HistoryStore(f"sqlite+aiosqlite:///{tmp_path / 'h.sqlite3'}")
    with pytest.raises(InvalidRequestError, match="session_id"):
        await store.append(bad, [NewMessage(HumanMessage("x"), 1)])  # type: ignore[arg-type]


async def test_encryption_at_rest(history_url: str) -> None:
    key = generate_key()
    store = HistoryStore(history_url, key=key)
    await store.append("secret", turn(store, "secret", "my account is 12345", "noted"))
    assert [m.content for m in await store.messages("secret")] == ["my account is 12345", "noted"]
    await store.close()
    raw = HistoryStore(history_url)  # no key
    with pytest.raises(StorageError, match="encrypted"):
        await raw.messages("secret")
    await raw.close()
    wrong = HistoryStore(history_url, key=generate_key())
    with pytest.raises(StorageError, match="not the one"):
        await wrong.window("secret", 1000)
    await wrong.close()


async def test_ciphertext_is_what_lies_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    store = HistoryStore(f"sqlite+aiosqlite:///{path}", key=generate_key())
    await store.append("s", [NewMessage(HumanMessage("the password is hunter2"), 5)])
    await store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("h.sqlite3"))
    assert b"hunter2" not in raw and b"zlenc1:" in raw


def test_a_bad_key_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="not a valid key"):
        HistoryStore("sqlite+aiosqlite:///x.sqlite3", key="not-a-key")


async def test_sqlite_file_is_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "history.sqlite3"
    store = HistoryStore(f"sqlite+aiosqlite:///{path}")
    await store.append("s", [NewMessage(HumanMessage("x"), 1)])
    await store.close()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700


async def test_fifty_concurrent_writers_on_one_session(history_url: str) -> None:
    store = HistoryStore(history_url)
    await asyncio.gather(
        *(
            store.append(
                "shared", [NewMessage(HumanMessage(f"q{i}"), 3), NewMessage(AIMessage(f"a{i}"), 4)]
            )
            for i in range(50)
        )
    )
    stored = await store.messages("shared")
    assert [m.seq for m in stored] == list(range(1, 101))
    for question, answer in zip(stored[::2], stored[1::2], strict=True):
        assert question.content[1:] == answer.content[1:]  # each turn stayed together
    info = await store.session("shared")
    assert info is not None and info.total_tokens == 350 and info.message_count == 100
    await store.close()


def test_two_processes_on_one_sqlite_file(tmp_path: Path) -> None:
    import subprocess
    import sys

    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.sqlite3'}"
    script = (
        "import asyncio, sys\n"
        "from langchain_core.messages import HumanMessage\n"
        "from zero_llm.history import HistoryStore, NewMessage\n"
        "async def main():\n"
        "    store = HistoryStore(sys.argv[1])\n"
        "    for i in range(40):\n"
        "        await store.append('s', [NewMessage(HumanMessage(sys.argv[2] + str(i)), 1)])\n"
        "    await store.close()\n"
        "asyncio.run(main())\n"
    )
    workers = [subprocess.Popen([sys.executable, "-c", script, url, tag]) for tag in "AB"]
    assert [w.wait(timeout=120) for w in workers] == [0, 0]
    stored = SyncHistoryStore(HistoryStore(url)).messages("s")
    assert [m.seq for m in stored] == list(range(1, 81))
    for tag in "AB":
        assert [m.content for m in stored if m.content.startswith(tag)] == [
            f"{tag}{i}" for i in range(40)
        ]


async def test_bad_input_is_refused_before_anything_is_written(history_url: str) -> None:
    store = HistoryStore(history_url)
    await store.append("s", [NewMessage(HumanMessage("kept"), 1)])
    with pytest.raises(InvalidRequestError, match="negative"):
        await store.append(
            "s", [NewMessage(HumanMessage("ok"), 1), NewMessage(HumanMessage("x"), -1)]
        )
    assert [m.content for m in await store.messages("s")] == ["kept"]
    await store.close()


async def test_a_write_the_database_rejects_stores_nothing(history_url: str) -> None:
    store = HistoryStore(history_url)
    await store.append("s", [NewMessage(HumanMessage("kept"), 1)])
    # A model name past its column's 200 characters: PostgreSQL refuses it, SQLite keeps it.
    # (NUL, the example here before, is now stored alike by both: see test_write_failures.)
    too_long = [NewMessage(HumanMessage("fine"), 1), NewMessage(AIMessage("b"), 1, model="m" * 300)]
    if history_url.startswith("postgresql"):
        with pytest.raises(StorageError, match="history store failed"):
            await store.append("s", too_long)
        assert [m.content for m in await store.messages("s")] == ["kept"]
        info = await store.session("s")
        assert info is not None and info.message_count == 1 and info.total_tokens == 1
    else:  # SQLite stores it faithfully
        await store.append("s", too_long)
        assert [m.content for m in await store.messages("s")] == ["kept", "fine", "b"]
    await store.close()


async def test_migrations_are_recorded_and_applied_once(history_url: str) -> None:
    from sqlalchemy import select

    from zero_llm.migrations import migrations
    from zero_llm.schema import zl_migrations

    for _ in range(2):
        store = HistoryStore(history_url)
        await store.append("s", [NewMessage(HumanMessage("x"), 1)])

        async def applied(store: HistoryStore = store) -> list[str]:
            async with store.database.transaction(read_only=True) as connection:
                return list((await connection.execute(select(zl_migrations.c.name))).scalars())

        names = await store.database.call(applied())
        assert sorted(names) == [m.name for m in migrations()]
        assert "0001_sessions_and_messages" in names
        await store.close()


def test_sync_store_and_langchain_adapter(tmp_path: Path) -> None:
    store = HistoryStore(f"sqlite+aiosqlite:///{tmp_path / 'h.sqlite3'}")
    history = ZeroChatMessageHistory(store, "chat-1")
    history.add_user_message("hello")
    history.add_ai_message("hi there")
    assert [m.content for m in history.messages] == ["hello", "hi there"]
    sync = SyncHistoryStore(store)
    assert sync.session("chat-1").message_count == 2  # type: ignore[union-attr]
    history.clear()
    assert history.messages == [] and sync.sessions() == []


async def test_async_adapter(tmp_path: Path) -> None:
    history = ZeroChatMessageHistory(HistoryStore(f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"), "c")
    await history.aadd_messages([HumanMessage("a"), AIMessage("b")])
    assert [m.content for m in await history.aget_messages()] == ["a", "b"]
    await history.aclear()
    assert await history.aget_messages() == []


def test_unsupported_urls_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="only SQLite and PostgreSQL"):
        HistoryStore("mysql+aiomysql://u@h/db")
    with pytest.raises(ConfigurationError, match="invalid history URL"):
        HistoryStore("::not a url::")


def test_a_fresh_file_another_process_is_writing_is_opened_not_refused(tmp_path: Path) -> None:
    import sqlite3
    import threading

    path = tmp_path / "busy.sqlite3"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("CREATE TABLE held (x)")
    other.execute("BEGIN IMMEDIATE")  # another process writes, the file not yet in WAL
    other.execute("INSERT INTO held VALUES (1)")
    threading.Timer(0.3, lambda: other.execute("COMMIT")).start()
    store = SyncHistoryStore(HistoryStore(f"sqlite+aiosqlite:///{path}"))
    store.append("s", [NewMessage(HumanMessage("after the wait"), 1)])
    assert [m.content for m in store.messages("s")] == ["after the wait"]
    other.close()


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"max_age": timedelta(days=-1)}, "max_age"),
        ({"max_age": 3600}, "max_age"),
        ({"max_messages": -1}, "max_messages"),
        ({"max_messages": 2.5}, "max_messages"),
        ({"max_messages": True}, "max_messages"),
    ],
)
async def test_invalid_retention_arguments_are_refused_and_delete_nothing(
    tmp_path: Path, arguments: dict[str, object], named: str
) -> None:
    store = HistoryStore(f"sqlite+aiosqlite:///{tmp_path / 'h.sqlite3'}")
    await store.append("s", [NewMessage(HumanMessage("keep me"), 2)])
    with pytest.raises(InvalidRequestError, match=named):
        await store.apply_retention(**arguments)  # type: ignore[arg-type]
    assert [m.content for m in await store.messages("s")] == ["keep me"]
    await store.close()
