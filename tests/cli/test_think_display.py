"""``--think``: deepseek-r1's thinking shown dim as it comes, through a real pty; stdout clean."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.terminal import base_env, run_on_terminal, run_piped
from zero_llm.testing import OllamaEmulator

DIM = "\x1b[2m"
RESET = "\x1b[0m"
QUESTION = "why is the sky blue"
THOUGHT = "Let me think about this: why is the sky blue. I will answer plainly."
"""The emulator's thinking for QUESTION (zero_llm.testing.catalog.thinking_for)."""
ANSWER = f"[deepseek-r1:32b] You said: {QUESTION}\n"


@pytest.fixture(scope="module")
def emulator_slow() -> Iterator[OllamaEmulator]:
    """Thinking that takes a moment to arrive, piece by piece."""
    with OllamaEmulator(time_scale=0.05, chunk_delay=0.03) as emu:
        yield emu


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One home for the module: the model's vocabulary is fetched and saved once."""
    return tmp_path_factory.mktemp("think") / "home"


def plain(terminal: str) -> str:
    """The terminal's text without colour codes and with plain newlines."""
    for code in (DIM, RESET):
        terminal = terminal.replace(code, "")
    return terminal.replace("\r\n", "\n")


@pytest.mark.parametrize("resident", ["false", "true"])
def test_think_shows_the_thinking_dim_before_the_answer(
    emulator_slow: OllamaEmulator, home: Path, resident: str
) -> None:
    env = base_env(emulator_slow.base_url, home, ZERO_LLM_RESIDENT_ASK=resident)
    try:
        run = run_on_terminal(["ask", "--think", "--model", "deepseek-r1:32b", QUESTION], env)
    finally:
        run_piped(["resident", "stop"], env)
    assert run.code == 0, run.terminal
    assert run.stdout == ANSWER  # the thinking never reaches stdout
    assert f"{DIM}Thinking...\r\n" in run.terminal  # dim, framed as `ollama run` frames it
    assert f"{DIM} plainly{RESET}" in run.terminal  # each piece dim, as it came
    text = plain(run.terminal)
    assert f"Thinking...\n{THOUGHT}\n...done thinking.\n\n" in text
    after = text.split("Thinking...", 1)[1]
    assert "thinking... " not in after  # the status line stops once the thinking shows
    assert after.index("...done thinking.") < after.index("model=deepseek-r1:32b")


def test_think_honours_no_color(emulator_slow: OllamaEmulator, home: Path) -> None:
    env = base_env(emulator_slow.base_url, home, ZERO_LLM_RESIDENT_ASK="false")
    for extra, flag in (({"NO_COLOR": "1"}, []), ({}, ["--no-color"])):
        run = run_on_terminal(
            ["ask", "--think", *flag, "--model", "deepseek-r1:32b", QUESTION], {**env, **extra}
        )
        assert run.code == 0, run.terminal
        assert run.stdout == ANSWER
        assert THOUGHT in run.terminal.replace("\r\n", "\n")
        assert DIM not in run.terminal and RESET not in run.terminal


def test_without_think_the_thinking_stays_hidden_behind_the_spinner(
    emulator_slow: OllamaEmulator, home: Path
) -> None:
    env = base_env(emulator_slow.base_url, home, ZERO_LLM_RESIDENT_ASK="false")
    run = run_on_terminal(["ask", "--model", "deepseek-r1:32b", QUESTION], env)
    assert run.code == 0, run.terminal
    assert "deepseek-r1:32b thinking... " in run.terminal
    assert "Let me think" not in run.terminal and "Thinking..." not in run.terminal


def test_think_piped_keeps_stdout_clean(emulator_slow: OllamaEmulator, home: Path) -> None:
    env = base_env(emulator_slow.base_url, home, ZERO_LLM_RESIDENT_ASK="false")
    done = run_piped(["ask", "--think", "--model", "deepseek-r1:32b", QUESTION], env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ANSWER
    assert done.stderr.startswith(f"Thinking...\n{THOUGHT}\n...done thinking.\n\n")
    assert "\x1b" not in done.stderr and "\r" not in done.stderr  # no styles, no status line
    whole = run_piped(["ask", "--think", "--json", "--model", "deepseek-r1:32b", QUESTION], env)
    assert whole.returncode == 0, whole.stderr
    assert json.loads(whole.stdout)["thinking"] == THOUGHT  # in the JSON, as without --think
    assert whole.stderr == ""  # --json: the one object only


def test_chat_think_and_the_think_command(emulator_slow: OllamaEmulator, home: Path) -> None:
    env = base_env(emulator_slow.base_url, home)
    run = run_on_terminal(
        ["chat", "--think"],
        env,
        stdout_on_terminal=True,
        typed=[
            ("you> ", b"/model deepseek-r1:32b\n"),
            ("you> ", QUESTION.encode() + b"\n"),
            ("you> ", b"/think off\n"),
            ("you> ", b"and why is it red at dusk\n"),
            ("you> ", b"/exit\n"),
        ],
    )
    assert run.code == 0, run.terminal
    text = plain(run.terminal)
    assert f"Thinking...\n{THOUGHT}\n...done thinking.\n\n{ANSWER}" in text
    assert f"{DIM}Thinking..." in run.terminal
    assert text.count("Thinking...") == 1  # /think off: hidden again
    assert "You said: and why is it red at dusk" in text
