"""The commands without model I/O stay off the heavy imports: the start-up goal of row 7.

The record commands that only read (``sessions list``/``show``, ``logs``, ``usage``) read
the default SQLite history without a manager (no LangChain, no engine, no client) and
without SQLAlchemy at all (``zero_llm.sqlite_records``), unless the file needs the full
stores (then they use SQLAlchemy's sync engine, still without its asyncio extension, its
ORM, aiosqlite or the sync bridge); ``route``, ``config`` and ``--help`` import no
database at all, and no other command's module. Each command runs in a fresh interpreter
(as a user runs it), over a history that a real ``ask`` wrote (encrypted) or a fresh
home; the interpreter reports which of the watched modules it imported. (Imports, not
wall time: a timed assertion would flake on a loaded machine; ``python -m
benchmarks.startup`` measures the time.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer.core
import typer.main
from cryptography.fernet import Fernet
from typer.testing import CliRunner

from zero_llm.cli.command_line import is_brief
from zero_llm.cli.commands import COMMANDS, app, app_for
from zero_llm.testing import OllamaEmulator

HEAVY = ("langchain_core", "zero_llm.manager", "zero_llm.core", "zero_llm.calls", "ollama", "httpx")
"""What a command that only reads records must not import."""
ASYNC_DATABASE = (
    "sqlalchemy.ext.asyncio",
    "sqlalchemy.orm",
    "aiosqlite",
    "greenlet",
    "anyio",
    "zero_llm.sync_bridge",
)
"""The asyncio database stack, which a record command on SQLite does without."""
READ_PATH = (*HEAVY, *ASYNC_DATABASE, "sqlalchemy")
"""What a reading record command on a settled SQLite history does without."""
COMMAND_MODULES = tuple(
    f"zero_llm.cli.{name}"
    for name in (
        *("ask", "chat", "config", "doctor", "emulate", "history", "hosts", "logs"),
        *("models", "progress", "records", "resident"),
    )
)
"""The modules of the commands: a command imports its own alone."""

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


def probe(
    args: list[str], env: dict[str, str], watched: tuple[str, ...] = HEAVY + ASYNC_DATABASE
) -> tuple[str, dict[str, object]]:
    """Run ``zero-llm args`` in a fresh interpreter: its stdout, which of ``watched`` it loaded."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args), json.dumps(watched)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    report = done.stderr.rsplit("PROBE ", 1)
    assert len(report) == 2, done.stderr
    return done.stdout, json.loads(report[1])


def run_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``zero-llm args`` as a user does, in a fresh interpreter: its exit and output."""
    return subprocess.run(
        [sys.executable, "-m", "zero_llm.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_sessions_list_imports_no_langchain(history_home: dict[str, str]) -> None:
    out, report = probe(["sessions", "list", "--json"], history_home, READ_PATH)
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
    out, report = probe(args, history_home, READ_PATH)
    assert report == {"code": 0, "heavy": []}
    assert expected in out


def test_sessions_show_imports_no_langchain(history_home: dict[str, str]) -> None:
    listed, _ = probe(["sessions", "list", "--json"], history_home)
    session = json.loads(listed)[0]["id"]
    out, report = probe(["sessions", "show", session], history_home, READ_PATH)
    assert report == {"code": 0, "heavy": []}
    assert "you: what moves bond yields?" in out
    _, report = probe(["sessions", "show", "no-such-session"], history_home, READ_PATH)
    assert report == {"code": 1, "heavy": []}  # a clear error, still without LangChain


@pytest.fixture
def fresh_home(tmp_path: Path) -> dict[str, str]:
    """A home with nothing in it yet, no key, no Ollama to reach."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZERO_LLM_", "OLLAMA_"))}
    env.update(ZERO_LLM_HOME=str(tmp_path / "home"), OLLAMA_HOST="http://127.0.0.1:9")
    return env


@pytest.mark.parametrize(
    "args", [["sessions", "list", "--json"], ["logs", "--json"], ["usage", "--json"]]
)
def test_record_commands_on_a_fresh_home_stay_light(
    fresh_home: dict[str, str], args: list[str]
) -> None:
    out, report = probe(args, fresh_home, READ_PATH)
    assert report == {"code": 0, "heavy": []}
    assert json.loads(out) == []
    assert not (Path(fresh_home["ZERO_LLM_HOME"]) / "history.sqlite3").exists()  # nor writes


def test_a_history_that_needs_the_full_stores_is_read_through_them(
    history_home: dict[str, str],
) -> None:
    """A wrong key or no key for a sealed file, and a pending migration: the full stores."""
    wrong = {**history_home, "ZERO_LLM_HISTORY_KEY": Fernet.generate_key().decode()}
    done = run_cli(["sessions", "list"], wrong)
    assert done.returncode == 1
    assert "StorageError: the history key is not the one this database was" in done.stderr
    keyless = {k: v for k, v in history_home.items() if k != "ZERO_LLM_HISTORY_KEY"}
    out, report = probe(["usage", "--json"], keyless, READ_PATH)  # counts stay readable
    assert report == {"code": 0, "heavy": []} and '"calls": 1' in out
    import sqlite3

    path = Path(history_home["ZERO_LLM_HOME"]) / "history.sqlite3"
    with sqlite3.connect(path) as connection:  # as if written before the newest migration
        connection.execute("DELETE FROM zl_migrations WHERE name = '0005_usage_emulated'")
        connection.execute("ALTER TABLE zl_usage DROP COLUMN emulated")
    out, report = probe(["sessions", "list", "--json"], history_home, ("sqlalchemy",))
    assert report == {"code": 0, "heavy": ["sqlalchemy"]}  # migrated by the full stores
    assert json.loads(out)[0]["title"] == "what moves bond yields?"
    out, report = probe(["sessions", "list", "--json"], history_home, READ_PATH)
    assert report == {"code": 0, "heavy": []}  # settled now: read directly again


@pytest.mark.parametrize(
    ("args", "own", "expected"),
    [
        (["route", "--task", "code", "fix this"], "zero_llm.cli.ask", "qwen2.5-coder:32b"),
        (["config", "--json"], "zero_llm.cli.config", '"history_url"'),
    ],
)
def test_route_and_config_import_no_database_and_no_other_command(
    fresh_home: dict[str, str], args: list[str], own: str, expected: str
) -> None:
    watched = (*HEAVY, "sqlalchemy", "cryptography", "rich", "zero_llm.storage", *COMMAND_MODULES)
    out, report = probe(args, fresh_home, watched)
    assert report == {"code": 0, "heavy": [own]}
    assert expected in out
    assert not (Path(fresh_home["ZERO_LLM_HOME"]) / "history.sqlite3").exists()


def test_help_imports_no_settings_no_database_no_event_loop(fresh_home: dict[str, str]) -> None:
    watched = (*HEAVY, "sqlalchemy", "pydantic", "pydantic_settings", "asyncio")
    out, report = probe(["--help"], fresh_home, watched)
    assert report == {"code": 0, "heavy": []}
    for command in ("route", "config", "sessions", "logs", "usage", "resident"):
        assert command in out  # the whole app's help: every command listed


def test_a_mistyped_command_still_gets_the_whole_apps_suggestion(
    fresh_home: dict[str, str],
) -> None:
    done = run_cli(["sesions", "list"], fresh_home)
    assert done.returncode == 2
    assert "No such command 'sesions'. Did you mean 'sessions'?" in done.stderr


@pytest.mark.parametrize(
    ("args", "only"),
    [
        (["route", "hello"], {"route"}),
        (["-v", "sessions", "list"], {"sessions"}),
        (["--no-color", "usage", "--json"], {"usage"}),
        (["--help"], None),
        ([], None),
        (["sesions", "list"], None),  # unknown: the whole app says "did you mean"
        (["--bogus", "route", "x"], None),  # an unknown option before the command
    ],
)
def test_the_app_holds_only_the_command_named(args: list[str], only: set[str] | None) -> None:
    built = typer.main.get_command(app_for(args))
    assert isinstance(built, typer.core.TyperGroup)
    assert set(built.commands) == (only if only is not None else set(COMMANDS))
    whole = typer.main.get_command(app)
    assert isinstance(whole, typer.core.TyperGroup)
    assert list(whole.commands) == list(COMMANDS)  # in --help's order


@pytest.mark.parametrize(
    ("args", "collecting"),
    [(["route", "hi"], False), (["config", "--json"], False), (["emulate", "--help"], True)],
)
def test_brief_commands_run_without_the_cyclic_collector(
    fresh_home: dict[str, str], args: list[str], collecting: bool
) -> None:
    program = (
        "import gc, sys\n"
        "from zero_llm.cli import main\n"
        f"sys.argv = ['zero-llm', *{args!r}]\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "print('COLLECTING', gc.isenabled(), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], env=fresh_home, capture_output=True, text=True, timeout=60
    )
    assert f"COLLECTING {collecting}" in done.stderr, done.stderr
    assert is_brief(args) is not collecting
