"""Nothing lost in silence: a turn that cannot be stored is said, and the command fails.

The disk is "full" by a trigger that aborts every insert with SQLite's own message, so
the answer comes and only its storing fails, as when a disk fills mid-session.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from typer.testing import CliRunner

from tests.cli.test_resident import Shell, shell  # noqa: F401  (the resident's fixture)
from tests.conftest import fast_settings
from zero_llm import InvalidRequestError, ModelManager
from zero_llm.cli import app
from zero_llm.history import HistoryStore, NewMessage
from zero_llm.testing import OllamaEmulator

FULL = "database or disk is full"


def fill_the_disk(database: Path) -> None:
    """Make every later insert into the history and the ledger fail as a full disk does."""
    with sqlite3.connect(database) as connection:
        for table in ("zl_messages", "zl_usage"):
            connection.execute(
                f"CREATE TRIGGER full_{table} BEFORE INSERT ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{FULL}'); END"
            )


@pytest.fixture
def cli(emulator: OllamaEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OLLAMA_HOST", emulator.base_url)
    monkeypatch.setenv("ZERO_LLM_HOME", str(tmp_path / "home"))
    runner = CliRunner()

    def run(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)

    assert run("ask", "--session", "warm", "make the database").exit_code == 0
    fill_the_disk(tmp_path / "home" / "history.sqlite3")
    return run


@pytest.mark.parametrize("flags", [[], ["--no-stream"], ["--json"]])
def test_ask_in_process_says_the_turn_was_lost_and_fails(cli, flags: list[str]) -> None:  # type: ignore[no-untyped-def]
    result = cli("ask", *flags, "--session", "s", "remember this")
    assert "You said: remember this" in result.stdout  # the answer is still shown
    assert result.exit_code == 1
    assert "not stored" in result.stderr and FULL in result.stderr


def test_ask_without_a_session_fails_when_its_usage_record_is_lost(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("ask", "no session here")
    assert "You said: no session here" in result.stdout
    assert result.exit_code == 1 and "usage record was not stored" in result.stderr


def test_chat_warns_at_each_lost_turn_and_exits_non_zero(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("chat", "--session", "c", input="first\nsecond\n/exit\n")
    assert result.stdout.count("You said:") == 2
    assert result.stderr.count("warning: the answer above was shown but the turn") == 2
    assert result.exit_code == 1 and "2 turn(s) of session c were not stored" in result.stderr


def test_the_resident_ask_says_the_turn_was_lost_and_fails(
    shell: Shell,  # noqa: F811
    tmp_path: Path,
) -> None:
    assert shell.run("ask", "--session", "warm", "make the database").returncode == 0
    fill_the_disk(tmp_path / "home" / "history.sqlite3")
    for flags in ([], ["--no-stream"]):
        done = shell.run("ask", *flags, "--session", "s", "remember this")
        assert "You said: remember this" in done.stdout
        assert done.returncode == 1, done.stderr
        assert "not stored" in done.stderr and FULL in done.stderr


async def test_nul_characters_are_stored_alike_on_both_backends(history_url: str) -> None:
    store = HistoryStore(history_url)
    await store.append(
        "s",
        [
            NewMessage(HumanMessage("before\x00after"), 3),
            NewMessage(AIMessage("an\x00answer"), 3, reasoning="thought\x00more"),
        ],
    )
    human, ai = await store.messages("s")
    assert human.content == "before\x00after" and ai.content == "an\x00answer"
    assert ai.reasoning == "thought\x00more"
    assert [m.content for m in await store.window("s", 100)] == ["before\x00after", "an\x00answer"]
    await store.close()


async def test_a_question_with_nul_is_answered_and_stored_on_both_backends(
    emulator: OllamaEmulator, history_url: str, tmp_path: Path
) -> None:
    manager = ModelManager(fast_settings(emulator.base_url, home=tmp_path, history_url=history_url))
    answer = await manager.query_model("llama", "a\x00b", session_id="nul")
    assert answer.trace.history_error is None
    stored = await manager.history.messages("nul")
    assert [m.content for m in stored] == ["a\x00b", str(answer)]
    await manager.aclose()


async def test_names_longer_than_their_columns_are_refused_on_both_backends(
    emulator: OllamaEmulator, history_url: str, tmp_path: Path
) -> None:
    manager = ModelManager(fast_settings(emulator.base_url, home=tmp_path, history_url=history_url))
    with pytest.raises(InvalidRequestError, match="task is longer"):
        await manager.ask("hello", task="t" * 101, session_id="s")
    assert emulator.requests_to("/api/chat") == []  # refused before asking
    answer = await manager.ask("hello", task="t" * 100, session_id="s")
    assert answer.trace.history_error is None
    await manager.aclose()
