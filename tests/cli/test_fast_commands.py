"""The record commands read the history without a manager: no LangChain, no engine, no client.

Each command runs in a fresh interpreter (as a user runs it) over a history that a real
``ask`` wrote (encrypted); the interpreter reports which modules it imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from typer.testing import CliRunner

from zero_llm.cli.commands import app
from zero_llm.testing import OllamaEmulator

HEAVY = ("langchain_core", "zero_llm.manager", "zero_llm.core", "zero_llm.calls", "ollama", "httpx")
"""What a command that only reads records must not import."""

PROBE = """
import json, sys
from zero_llm.cli import main
watched = json.loads(sys.argv[2])
sys.argv = ["zero-llm", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
heavy = sorted(m for m in watched if m in sys.modules)
print("\\nPROBE " + json.dumps({"code": code, "heavy": heavy}), file=sys.stderr)
"""


@pytest.fixture
def history_home(
    emulator: OllamaEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """A home whose encrypted history holds one conversation, written by a real ``ask``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZERO_LLM_")}
    env.update(
        OLLAMA_HOST=emulator.base_url,
        ZERO_LLM_HOME=str(tmp_path / "home"),
        ZERO_LLM_HISTORY_KEY=Fernet.generate_key().decode(),
    )
    for name, value in env.items():
        if name.startswith(("ZERO_LLM_", "OLLAMA_")):
            monkeypatch.setenv(name, value)
    result = CliRunner().invoke(
        app, ["ask", "--task", "quick", "what moves bond yields?"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.stderr
    return env


def probe(args: list[str], env: dict[str, str]) -> tuple[str, dict[str, object]]:
    """Run ``zero-llm args`` in a fresh interpreter: its stdout and what it imported."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args), json.dumps(HEAVY)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    report = done.stderr.rsplit("PROBE ", 1)
    assert len(report) == 2, done.stderr
    return done.stdout, json.loads(report[1])


def test_sessions_list_imports_no_langchain(history_home: dict[str, str]) -> None:
    out, report = probe(["sessions", "list", "--json"], history_home)
    assert report == {"code": 0, "heavy": []}
    [listed] = json.loads(out)
    assert listed["title"] == "what moves bond yields?"  # decrypted with the key
    assert listed["message_count"] == 2


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["logs"], "> what moves bond yields?"),
        (["usage", "--json"], '"calls": 1'),
    ],
)
def test_other_record_commands_import_no_langchain(
    history_home: dict[str, str], args: list[str], expected: str
) -> None:
    out, report = probe(args, history_home)
    assert report == {"code": 0, "heavy": []}
    assert expected in out


def test_sessions_show_imports_no_langchain(history_home: dict[str, str]) -> None:
    listed, _ = probe(["sessions", "list", "--json"], history_home)
    session = json.loads(listed)[0]["id"]
    out, report = probe(["sessions", "show", session], history_home)
    assert report == {"code": 0, "heavy": []}
    assert "you: what moves bond yields?" in out
    _, report = probe(["sessions", "show", "no-such-session"], history_home)
    assert report == {"code": 1, "heavy": []}  # a clear error, still without LangChain
