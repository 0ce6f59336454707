"""--version, -v after the subcommand, NO_COLOR / --no-color, and useful reprs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.cli.terminal import base_env, run_on_terminal, run_piped
from tests.conftest import fast_settings
from zero_llm import ModelManager, __version__
from zero_llm.testing import OllamaEmulator


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "zero_llm.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
    )


def test_version_anywhere() -> None:
    for args in (["--version"], ["route", "hi", "--version"]):
        done = _run(*args)
        assert done.returncode == 0 and done.stdout == f"zero-llm {__version__}\n", done.stderr


def test_verbose_after_the_subcommand_shows_the_traceback(tmp_path: Path) -> None:
    (tmp_path / "zero_llm.toml").write_text("default_role = 'quik'\n")
    quiet = _run("route", "hi", cwd=tmp_path)
    loud = _run("route", "hi", "-v", cwd=tmp_path)
    assert quiet.returncode == loud.returncode == 1
    assert "Traceback" not in quiet.stderr and "did you mean 'quick'" in quiet.stderr
    assert "Traceback" in loud.stderr and loud.stderr.rstrip().splitlines()[-1].startswith(
        "error: "
    )


def test_no_color_and_the_flag_turn_colours_off(tmp_path: Path) -> None:
    with OllamaEmulator() as emu:
        envs = [
            base_env(emu.base_url, tmp_path / "h1"),
            base_env(emu.base_url, tmp_path / "h2", NO_COLOR="1"),  # through the resident
            base_env(emu.base_url, tmp_path / "h3"),
        ]
        try:
            coloured = run_on_terminal(["ask", "hi"], envs[0])
            plain = run_on_terminal(["ask", "hi"], envs[1])
            flag = run_on_terminal(["ask", "hi", "--no-color"], envs[2])
        finally:
            for env in envs:
                run_piped(["resident", "stop"], env)
    assert "\x1b[2mmodel=llama3.1:8b" in coloured.terminal
    for run in (plain, flag):
        assert run.code == 0 and "model=llama3.1:8b" in run.terminal
        assert "\x1b[2m" not in run.terminal and "\x1b[0m" not in run.terminal, run.terminal


def test_reprs_say_what_they_hold(emulator: OllamaEmulator) -> None:
    settings = fast_settings(
        emulator.base_url, history_url="postgresql+asyncpg://zero:hunter2@db/zero"
    )
    manager = ModelManager(settings)
    shown = repr(manager)
    assert emulator.base_url in shown and "'code': 'qwen2.5-coder:32b'" in shown
    assert "hunter2" not in shown and "zero:********@db" in shown
    local = ModelManager(fast_settings(emulator.base_url))
    try:
        answer = local.query_model_sync("llama", "hello there")
    finally:
        local.close()
    assert repr(answer).startswith("Answer('[llama3.1:8b] You said: hello there', ")
    assert "model='llama3.1:8b'" in repr(answer) and "tokens=" in repr(answer)
