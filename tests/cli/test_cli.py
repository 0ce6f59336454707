"""The zero-llm command, driven for real (CliRunner) against the emulator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from zero_llm.cli import app
from zero_llm.testing import OllamaEmulator


@pytest.fixture
def cli(emulator: OllamaEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OLLAMA_HOST", emulator.base_url)
    monkeypatch.setenv("ZERO_LLM_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ZERO_LLM_RETRY__INITIAL_BACKOFF", "0.01")
    runner = CliRunner()

    def run(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)

    return run


def test_ask_streams_then_summarizes(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("ask", "Why did $NVDA drop after earnings?")
    assert result.exit_code == 0
    assert "[deepseek-r1:32b] You said: Why did $NVDA drop after earnings?" in result.stdout
    assert "model=deepseek-r1:32b" in result.stderr
    assert "route: analysis: ticker $NVDA" in result.stderr
    assert "tokens in/out=" in result.stderr and "latency=" in result.stderr


def test_ask_json_and_pinned_model(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("ask", "hello", "--model", "qwen", "--no-stream", "--json")
    data = json.loads(result.stdout)
    assert data["answer"] == "[qwen2.5-coder:32b] You said: hello"
    assert data["model"] == "qwen2.5-coder:32b" and data["output_tokens"] > 0


def test_route_without_calling_a_model(cli, emulator: OllamaEmulator) -> None:  # type: ignore[no-untyped-def]
    result = cli("route", "def f(x): return x  # python bug")
    assert result.exit_code == 0 and "qwen2.5-coder:32b" in result.stdout
    assert "reason: code: " in result.stdout and "confidence" in result.stdout
    assert emulator.requests == []


def test_models_load_ps_unload(cli, emulator: OllamaEmulator) -> None:  # type: ignore[no-untyped-def]
    assert "qwen2.5-coder:32b" in cli("models").stdout
    loaded = cli("load", "qwen")
    assert loaded.exit_code == 0 and "qwen2.5-coder:32b loaded" in loaded.stdout
    assert "num_ctx=32768" in loaded.stdout
    assert "qwen2.5-coder:32b" in cli("ps").stdout
    assert cli("unload", "qwen").exit_code == 0
    assert emulator.loaded_models() == {}


def test_pull_is_quiet_off_a_terminal_and_fails_clearly() -> None:
    with OllamaEmulator(pullable=["llama3.1:8b"]) as emu:
        runner = CliRunner()
        result = runner.invoke(app, ["pull", "llama", "--host", emu.base_url])
        assert result.exit_code == 0 and "llama3.1:8b pulled" in result.stdout
        assert result.stderr == ""  # not a terminal: no progress (test_never_quiet: a pty)
        unknown = runner.invoke(app, ["pull", "mistral", "--host", emu.base_url])
        # any name may be pulled: the registry says it has no such model
        assert unknown.exit_code == 1 and "cannot pull 'mistral:latest'" in unknown.stderr
        assert "Traceback" not in unknown.stderr + unknown.stdout


def test_unreachable_ollama_is_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZERO_LLM_HOME", str(tmp_path))
    monkeypatch.setenv("ZERO_LLM_RETRY__INITIAL_BACKOFF", "0.01")
    result = CliRunner().invoke(app, ["ask", "hi", "--host", "127.0.0.1:9"])
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "127.0.0.1:9" in lines[0] and "ollama serve" in lines[0]


def test_sessions_commands(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("ask", "remember the number 42", "--session", "s1").exit_code == 0
    assert cli("ask", "what number?", "--session", "s1", "--no-stream").exit_code == 0
    assert "s1" in cli("sessions", "list").stdout
    shown = cli("sessions", "show", "s1").stdout
    assert "you: remember the number 42" in shown and "llama3.1:8b:" in shown
    exported = json.loads(cli("sessions", "export", "s1").stdout)
    assert [m["role"] for m in exported["messages"]] == ["human", "ai", "human", "ai"]
    assert cli("sessions", "delete", "s1").exit_code == 0
    missing = cli("sessions", "show", "s1")
    assert missing.exit_code == 1 and "no session 's1'" in missing.stderr


def test_usage_report(cli) -> None:  # type: ignore[no-untyped-def]
    cli("ask", "hello")
    cli("ask", "def f(): pass  # python")
    table = cli("usage", "--by", "model").stdout
    assert "llama3.1:8b" in table and "qwen2.5-coder:32b" in table
    rows = json.loads(cli("usage", "--json", "--since", "1h").stdout)
    assert rows[0]["calls"] == 2 and rows[0]["failures"] == 0
    bad = cli("usage", "--by", "color")
    assert bad.exit_code == 1 and "choose model, task or session" in bad.stderr
    assert cli("usage", "--since", "yesterday").exit_code == 1


def test_chat_keeps_a_conversation(cli, emulator: OllamaEmulator) -> None:  # type: ignore[no-untyped-def]
    script = "\n".join(
        [
            "My name is Dana",
            "/task code",
            "write a parser",
            "/model llama",
            "who am I?",
            "/model gpt-9",
            "/exit",
            "",
        ]
    )
    result = cli("chat", "--session", "c1", input=script)
    assert result.exit_code == 0
    assert "[llama3.1:8b] You said: My name is Dana" in result.stdout
    assert "[qwen2.5-coder:32b] You said: write a parser" in result.stdout
    assert "not in the catalog" in result.stderr
    last = emulator.requests_to("/api/chat")[-1].body
    assert last is not None and last["messages"][0]["content"] == "My name is Dana"
