"""The user's side of the zero-llm command: stdin, system text, fallback notes, 80-column
tables, --json, config, doctor, closing cleanly and the emulator extra."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from zero_llm.cli import app
from zero_llm.testing import OllamaEmulator

from .test_cli import cli  # noqa: F401  (the fixture)


def chat_bodies(emulator: OllamaEmulator) -> list[dict]:  # type: ignore[type-arg]
    return [r.body for r in emulator.requests_to("/api/chat") if r.body is not None]


def test_question_read_from_stdin(cli) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    piped = cli("ask", "--no-stream", input="what is 2+2\n")
    assert piped.exit_code == 0, piped.stderr
    assert "[llama3.1:8b] You said: what is 2+2" in piped.stdout
    dash = cli("ask", "-", input="and 3+3?")
    assert "You said: and 3+3?" in dash.stdout


def test_piped_text_is_the_context_of_the_question(cli, emulator: OllamaEmulator) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    log = "Traceback (most recent call last):\n  ValueError: bad pixel"
    result = cli("ask", "--task", "code", "--system", "You are terse.", "explain", input=log)
    assert result.exit_code == 0, result.stderr
    assert "[qwen2.5-coder:32b] You said: explain" in result.stdout
    messages = chat_bodies(emulator)[-1]["messages"]
    assert messages[0]["role"] == "system"
    assert messages[0]["content"] == "You are terse.\n\n" + log
    assert messages[-1] == {"role": "user", "content": "explain"}


def test_no_question_at_all_is_one_clear_line(cli, emulator: OllamaEmulator) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    result = cli("ask", input="")
    assert result.exit_code == 1
    assert "no question: give it as an argument or pipe it" in result.stderr
    assert chat_bodies(emulator) == []


def test_fallback_is_said_in_the_status_line(cli, emulator: OllamaEmulator) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    emulator.faults.fail_next(3, status=500)  # all of qwen's attempts
    result = cli("ask", "def f(): pass", "--model", "qwen")
    assert result.exit_code == 0, result.stderr
    assert (
        "answered by llama3.1:8b instead of qwen2.5-coder:32b because qwen2.5-coder:32b "
        "failed (OllamaServerError:" in result.stderr
    )
    plain = cli("ask", "hello")
    assert "answered by" not in plain.stderr


def _lines_fit(text: str, width: int = 80) -> None:
    assert text.strip(), "nothing printed"
    for line in text.splitlines():
        assert len(line) <= width, line


def test_tables_are_readable_at_80_columns(cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    monkeypatch.setenv("COLUMNS", "80")
    cli("load", "qwen")
    models = cli("models").stdout
    _lines_fit(models)
    for word in ("role", "model", "tasks", "state", "num_ctx", "max ctx", "reasoning"):
        assert word in models
    assert "deepseek-r1:32b" in models and "qwen2.5-coder:32b" in models
    assert "trading, analysis," in models and "loaded" in models and "missing" not in models
    cli("ask", "hello", "--session", "a-rather-long-session-name-for-tables")
    cli("ask", "def f(): pass  # python")
    usage = cli("usage", "--by", "model").stdout
    _lines_fit(usage)
    for word in ("calls", "fail", "retry", "cold", "p50 s", "p95 s", "ttft s", "tok/s"):
        assert word in usage
    assert "llama3.1:8b" in usage and "qwen2.5-coder:32b" in usage
    sessions = cli("sessions", "list").stdout
    _lines_fit(sessions)
    assert "a-rather-long-session-name-for-tables" in sessions.replace("\n", "").replace(" ", "")
    ps = cli("ps").stdout
    _lines_fit(ps)
    assert "qwen2.5-coder:32b" in ps and "GiB" in ps


def test_stored_text_in_tables_is_shown_as_it_is(cli) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    question = "see [red]this[/red] and :smile: [link]"
    cli("ask", question, "--session", "markup")
    listed = cli("sessions", "list").stdout.replace("\n", "").replace(" ", "")
    assert question.replace(" ", "") in listed  # the title: no markup eaten, no emoji made
    assert "\N{SMILING FACE WITH SMILING EYES}" not in listed and "😄" not in listed


def test_listing_commands_speak_json(cli) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    cli("load", "llama")
    cli("ask", "hello", "--session", "j1")
    models = json.loads(cli("models", "--json").stdout)
    assert {m["role"] for m in models if m["role"]} == {"reasoning", "code", "quick"}
    assert {m["model"] for m in models if not m["role"]} == {"nomic-embed-text:latest"}
    quick = next(m for m in models if m["role"] == "quick")
    assert quick["model"] == "llama3.1:8b" and quick["loaded"] is True
    ps = json.loads(cli("ps", "--json").stdout)
    assert [m["name"] for m in ps] == ["llama3.1:8b"]
    sessions = json.loads(cli("sessions", "list", "--json").stdout)
    assert sessions[0]["id"] == "j1" and sessions[0]["message_count"] == 2
    route = json.loads(cli("route", "def f(x): return x  # python bug", "--json").stdout)
    assert route["model"] == "qwen2.5-coder:32b" and route["role"] == "code"
    usage = json.loads(cli("usage", "--json", "--by", "session").stdout)
    assert usage[0]["key"] == "j1" and usage[0]["calls"] == 1


def test_config_says_where_each_setting_came_from(
    cli,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # type: ignore[no-untyped-def]
    toml = tmp_path / "settings.toml"
    toml.write_text("context_window = 65536\n[window]\nsafety_margin = 100\n")
    monkeypatch.setenv("ZERO_LLM_CONFIG_FILE", str(toml))
    monkeypatch.setenv("ZERO_LLM_WINDOW__EXACT_COUNTS", "false")
    monkeypatch.setenv("ZERO_LLM_HISTORY_KEY", "very-secret-key")
    monkeypatch.setenv("ZERO_LLM_HISTORY_URL", "postgresql+asyncpg://zero:hunter2@db:5432/zero")
    result = cli("config", "--json", "--host", "http://10.0.0.9:11434")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["config_file"] == str(toml)
    rows = {r["name"]: (r["value"], r["source"]) for r in data["settings"]}
    assert rows["ollama_host"] == ("http://10.0.0.9:11434", "argument")
    assert rows["context_window"] == ("65536", "toml")
    assert rows["window.safety_margin"] == ("100", "toml")
    assert rows["window.exact_counts"] == ("False", "env")
    assert rows["window.answer_reserve"] == ("2048", "default")
    assert rows["home"][1] == "env"  # the fixture's ZERO_LLM_HOME
    assert rows["history_key"] == ("********", "env")
    assert rows["history_url"] == ("postgresql+asyncpg://zero:********@db:5432/zero", "env")
    assert rows["models.quick"][1] == "default"
    assert "very-secret-key" not in result.stdout and "hunter2" not in result.stdout
    table = cli("config")
    assert "window.exact_counts" in table.stdout and "hunter2" not in table.stdout
    assert "very-secret-key" not in table.stdout


def test_doctor_passes_against_a_ready_host(cli) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    result = cli("doctor")
    assert result.exit_code == 0, result.stdout
    assert "ok    host" in result.stdout and "Ollama" in result.stdout
    assert "qwen2.5-coder:32b is present" in result.stdout
    assert "num_ctx=32768" in result.stdout
    assert "ok    history" in result.stdout and "FAIL" not in result.stdout


def test_doctor_names_what_to_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZERO_LLM_HOME", str(tmp_path / "home"))
    runner = CliRunner()
    down = runner.invoke(app, ["doctor", "--host", "127.0.0.1:9"])
    assert down.exit_code == 1
    assert "FAIL  host" in down.stdout and "ollama serve" in down.stdout
    with OllamaEmulator(pullable=["llama3.1:8b"]) as emu:
        monkeypatch.setenv("ZERO_LLM_AUTO_PULL", "false")
        monkeypatch.setenv("ZERO_LLM_HISTORY_KEY_FILE", str(tmp_path / "no-such-key"))
        result = runner.invoke(app, ["doctor", "--host", emu.base_url, "--json"])
    assert result.exit_code == 1
    checks = {c["name"]: c for c in json.loads(result.stdout)}
    assert checks["host"]["status"] == "ok"
    assert checks["model quick"]["status"] == "fail"
    assert checks["model quick"]["fix"] == "zero-llm pull llama3.1:8b"
    assert checks["model code"]["status"] == "ok"
    assert checks["key"]["status"] == "fail" and "no-such-key" in checks["key"]["detail"]


def _zero_llm(
    *args: str, env: dict[str, str], code: str | None = None
) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    program = code or "from zero_llm.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-X", "dev", "-c", program, *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZERO_LLM_")}
    env.update(
        PYTHONPATH=os.pathsep.join(sys.path),
        ZERO_LLM_HOME=str(tmp_path / "home"),
        ZERO_LLM_RESIDENT_ASK="false",  # these check the in-process commands; see test_resident
        PYTHONWARNINGS="always",
        **extra,
    )
    return env


def test_commands_close_their_connections(emulator: OllamaEmulator, tmp_path: Path) -> None:
    env = _env(tmp_path, OLLAMA_HOST=emulator.base_url)
    for args in (["ask", "hello", "--session", "x"], ["models"], ["sessions", "list"]):
        done = _zero_llm(*args, env=env)
        assert done.returncode == 0, done.stderr
        assert "nclosed" not in done.stderr and "ResourceWarning" not in done.stderr, done.stderr
        assert "Traceback" not in done.stderr


def test_emulator_commands_say_what_to_install(tmp_path: Path) -> None:
    hide = "import sys; sys.modules['aiohttp'] = None; from zero_llm.cli import main; main()"
    done = _zero_llm("emulate", "--port", "0", env=_env(tmp_path), code=hide)
    assert done.returncode == 1
    assert "needs aiohttp" in done.stderr and "pip install 'zero-llm[emulator]'" in done.stderr
    assert "Traceback" not in done.stderr
