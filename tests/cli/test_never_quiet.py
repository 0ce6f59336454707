"""Never quiet on a terminal, clean when piped: pull, load and thinking, through a real pty."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.terminal import base_env, run_on_terminal, run_piped
from zero_llm.testing import OllamaEmulator


@pytest.fixture
def slow_emulator() -> Iterator[OllamaEmulator]:
    """Loads that take a moment and a model to pull (llama3.1:8b starts missing)."""
    with OllamaEmulator(time_scale=0.15, chunk_delay=0.02, pullable=["llama3.1:8b"]) as emu:
        emu.set_present("llama3.1:8b", False)
        yield emu


def test_pull_shows_byte_progress_and_status_lines_on_a_terminal(
    slow_emulator: OllamaEmulator, tmp_path: Path
) -> None:
    env = base_env(slow_emulator.base_url, tmp_path / "home", ZERO_LLM_RESIDENT_ASK="false")
    run = run_on_terminal(["pull", "llama3.1:8b"], env)
    assert run.code == 0, run.terminal
    assert run.stdout == "llama3.1:8b pulled\n"
    assert "pulling manifest" in run.terminal and "success" in run.terminal
    assert re.search(r"4\.9/4\.9 GB", run.terminal), run.terminal  # real bytes, finished
    assert "/?" not in run.terminal and "0/? bytes" not in run.terminal  # no empty bars


def test_pull_piped_prints_no_progress(slow_emulator: OllamaEmulator, tmp_path: Path) -> None:
    env = base_env(slow_emulator.base_url, tmp_path / "home", ZERO_LLM_RESIDENT_ASK="false")
    done = run_piped(["pull", "llama3.1:8b"], env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "llama3.1:8b pulled\n" and done.stderr == ""


def test_load_says_what_it_loads_and_evicts(slow_emulator: OllamaEmulator, tmp_path: Path) -> None:
    slow_emulator.set_present("llama3.1:8b", True)
    env = base_env(
        slow_emulator.base_url,
        tmp_path / "home",
        ZERO_LLM_RESIDENT_ASK="false",
        ZERO_LLM_MEMORY__GPU_MEMORY="20GiB",
    )
    first = run_on_terminal(["load", "qwen2.5-coder:32b"], env)
    assert first.code == 0, first.terminal
    run = run_on_terminal(["load", "deepseek-r1:32b"], env)
    assert run.code == 0, run.terminal
    assert re.search(
        r"loading deepseek-r1:32b \(\d+\.\d GiB\), evicting qwen2.5-coder:32b", run.terminal
    )
    assert run.stdout.startswith("deepseek-r1:32b loaded in")
    assert "\x1b[K" in run.terminal.split("loading deepseek-r1:32b")[-1]  # wiped at the end


@pytest.mark.parametrize("resident", ["false", "true"])
def test_ask_shows_thinking_then_a_clean_answer(
    slow_emulator: OllamaEmulator, tmp_path: Path, resident: str
) -> None:
    env = base_env(slow_emulator.base_url, tmp_path / "home", ZERO_LLM_RESIDENT_ASK=resident)
    try:
        run = run_on_terminal(["ask", "--model", "deepseek-r1:32b", "why is the sky blue"], env)
    finally:
        run_piped(["resident", "stop"], env)
    assert run.code == 0, run.terminal
    assert run.stdout == "[deepseek-r1:32b] You said: why is the sky blue\n"  # stdout clean
    assert "deepseek-r1:32b thinking... " in run.terminal, run.terminal
    summary = run.terminal.rsplit("\x1b[K", 1)[-1]  # after the status line's last wipe
    assert "model=deepseek-r1:32b" in summary and "thinking" not in summary


@pytest.mark.parametrize("resident", ["false", "true"])
def test_ask_on_a_missing_model_shows_the_pull_bytes(
    slow_emulator: OllamaEmulator, tmp_path: Path, resident: str
) -> None:
    env = base_env(slow_emulator.base_url, tmp_path / "home", ZERO_LLM_RESIDENT_ASK=resident)
    try:
        run = run_on_terminal(["ask", "--model", "llama3.1:8b", "hello"], env)
    finally:
        run_piped(["resident", "stop"], env)
    assert run.code == 0, run.terminal
    assert run.stdout == "[llama3.1:8b] You said: hello\n"
    assert "pulling llama3.1:8b: pulling manifest" in run.terminal, run.terminal
    assert re.search(r"pulling llama3\.1:8b [0-9a-f]{12} █+ 4\.9/4\.9 GB 100%", run.terminal)


def test_a_routed_ask_and_chat_show_the_pull_bytes_too(
    slow_emulator: OllamaEmulator, tmp_path: Path
) -> None:
    env = base_env(slow_emulator.base_url, tmp_path / "home", ZERO_LLM_RESIDENT_ASK="false")
    routed = run_on_terminal(["ask", "hello there"], env)  # routed to the quick model
    assert routed.code == 0, routed.terminal
    assert re.search(r"pulling llama3\.1:8b [0-9a-f]{12} █+ 4\.9/4\.9 GB", routed.terminal)
    slow_emulator.set_present("llama3.1:8b", False)
    chat = run_on_terminal(
        ["chat"],
        env,
        stdout_on_terminal=True,
        typed=[("you> ", b"/model llama3.1:8b\n"), ("you> ", b"hi\n"), ("you> ", b"/exit\n")],
    )
    assert chat.code == 0, chat.terminal
    assert re.search(r"pulling llama3\.1:8b [0-9a-f]{12} █+ 4\.9/4\.9 GB", chat.terminal)
    assert "You said: hi" in chat.terminal


def test_a_piped_ask_on_a_missing_model_pulls_without_a_word(
    slow_emulator: OllamaEmulator, tmp_path: Path
) -> None:
    env = base_env(slow_emulator.base_url, tmp_path / "home", ZERO_LLM_RESIDENT_ASK="false")
    done = run_piped(["ask", "--model", "llama3.1:8b", "hello"], env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "[llama3.1:8b] You said: hello\n"
    assert "pulling" not in done.stderr and "\r" not in done.stderr


def test_piped_ask_has_no_status_at_all(slow_emulator: OllamaEmulator, tmp_path: Path) -> None:
    env = base_env(slow_emulator.base_url, tmp_path / "home", ZERO_LLM_RESIDENT_ASK="false")
    done = run_piped(["ask", "--model", "deepseek-r1:32b", "why"], env)
    assert done.returncode == 0, done.stderr
    assert "thinking" not in done.stderr and "\r" not in done.stderr and "\x1b" not in done.stderr
    assert done.stderr.startswith("model=deepseek-r1:32b")


def test_log_lines_start_their_own_line(slow_emulator: OllamaEmulator, tmp_path: Path) -> None:
    slow_emulator.set_present("llama3.1:8b", True)
    env = base_env(slow_emulator.base_url, tmp_path / "home", ZERO_LLM_RESIDENT_ASK="false")
    run = run_on_terminal(["ask", "hello there", "-v"], env, stdout_on_terminal=True)
    assert run.code == 0, run.terminal
    for line in run.terminal.replace("\r\n", "\n").split("\n"):
        tail = line.rsplit("\x1b[K", 1)[-1]
        if "INFO " in tail:
            assert tail.startswith("INFO "), line  # never glued to the answer's text
