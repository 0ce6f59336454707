"""zero-llm logs lists past calls with question and answer; ask -c continues; titles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from typer.testing import CliRunner

from zero_llm import ModelManager
from zero_llm.cli.commands import app
from zero_llm.cli.sanitize import printable
from zero_llm.testing import OllamaEmulator


@pytest.fixture
def cli(emulator: OllamaEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OLLAMA_HOST", emulator.base_url)
    monkeypatch.setenv("ZERO_LLM_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ZERO_LLM_HISTORY_KEY", Fernet.generate_key().decode())
    runner = CliRunner()

    def run(*args: str):  # type: ignore[no-untyped-def]
        result = runner.invoke(app, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.stderr
        return result

    return run


def test_logs_show_questions_and_answers_decrypted_and_filtered(cli) -> None:  # type: ignore[no-untyped-def]
    cli("ask", "what is a bond yield?", "--task", "quick")
    cli("ask", "write a python parser", "--task", "code")
    cli("ask", "and one more thing", "-c")  # continues the code conversation
    shown = cli("logs").stdout
    assert "> what is a bond yield?" in shown and "[llama3.1:8b] You said: what is a bond" in shown
    assert shown.index("bond yield") < shown.index("python parser")  # newest last
    calls = json.loads(cli("logs", "--json").stdout)
    assert [c["question"] for c in calls] == [
        "what is a bond yield?",
        "write a python parser",
        "and one more thing",
    ]
    assert calls[1]["session_id"] == calls[2]["session_id"] != calls[0]["session_id"]
    assert calls[2]["model"] == "qwen2.5-coder:32b"  # -c kept the conversation's model
    only = json.loads(cli("logs", "--json", "--model", "llama").stdout)
    assert [c["question"] for c in only] == ["what is a bond yield?"]
    found = json.loads(cli("logs", "--json", "--text", "PARSER").stdout)
    assert [c["question"] for c in found] == ["write a python parser"]
    assert [c["question"] for c in json.loads(cli("logs", "--json", "-n", "1").stdout)] == [
        "and one more thing"
    ]
    session = calls[0]["session_id"]
    assert len(json.loads(cli("logs", "--json", "--session", session).stdout)) == 1
    assert json.loads(cli("logs", "--json", "--failed").stdout) == []


def test_titles_come_from_the_first_question_and_are_encrypted(
    cli,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    cli("ask", "How do rising rates affect growth stocks?\nplease be brief")
    [listed] = json.loads(cli("sessions", "list", "--json").stdout)
    assert listed["title"] == "How do rising rates affect growth stocks? please be brief"
    import sqlite3

    raw = sqlite3.connect(tmp_path / "home" / "history.sqlite3").execute(
        "select title from zl_sessions"
    )
    [(stored,)] = raw.fetchall()
    assert stored and "rising" not in stored  # sealed like the messages


def test_no_log_remembers_nothing(cli) -> None:  # type: ignore[no-untyped-def]
    cli("ask", "a secret question", "--no-log")
    assert "secret" not in cli("sessions", "list").stdout
    [call] = json.loads(cli("logs", "--json").stdout)
    assert call["question"] is None and call["session_id"] is None


def test_stored_control_sequences_never_reach_the_terminal(
    emulator: OllamaEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZERO_LLM_HOME", str(tmp_path / "home"))
    hostile = "hello \x1b]0;owned title\x07 and \x1b[2J cleared"
    with ModelManager(ollama_host=emulator.base_url) as manager:
        manager.query_model_sync("llama", hostile, session_id="evil")
    runner = CliRunner()
    for args in (["sessions", "show", "evil"], ["logs"], ["sessions", "list"]):
        result = runner.invoke(app, args, catch_exceptions=False)
        assert result.exit_code == 0, result.stderr
        assert "\x1b" not in result.stdout and "\x07" not in result.stdout, args
        if args[0] != "sessions" or args[1] == "show":
            assert "hello owned title and  cleared" not in result.stdout  # OSC body gone too
            assert "hello  and  cleared" in result.stdout


def test_printable_strips_every_kind_of_sequence() -> None:
    assert printable("a\x1b]0;t\x07b\x1b]8;;http://x\x1b\\c\x1b[31md\x9b2Je\x07\x08f\ng\th") == (
        "abcdef\ng\th"
    )
