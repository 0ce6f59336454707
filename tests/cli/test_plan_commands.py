"""`zero-llm models` shows the memory plan; `zero-llm ps` says why each model is resident."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from zero_llm.cli import app
from zero_llm.testing import OllamaEmulator


@pytest.fixture
def gpu24_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    with OllamaEmulator(gpu_memory=24 * 2**30) as emulator:
        monkeypatch.setenv("OLLAMA_HOST", emulator.base_url)
        monkeypatch.setenv("ZERO_LLM_HOME", str(tmp_path / "home"))
        monkeypatch.setenv("ZERO_LLM_MEMORY__GPU_MEMORY", "24GiB")
        runner = CliRunner()

        def run(*args: str):  # type: ignore[no-untyped-def]
            return runner.invoke(app, list(args), catch_exceptions=False)

        yield run


def test_models_shows_the_plan_and_why(gpu24_cli) -> None:  # type: ignore[no-untyped-def]
    result = gpu24_cli("models")
    assert result.exit_code == 0
    assert "GPU memory: 24.0 GiB" in result.stdout
    assert "deepseek-r1:32b and qwen2.5-coder:32b never fit together in 24.0 GiB" in result.stdout
    assert "qwen2.5-coder:32b: num_ctx 20480: the largest window that fits alone" in result.stdout
    listed = {m["model"]: m for m in json.loads(gpu24_cli("models", "--json").stdout)}
    assert listed["deepseek-r1:32b"]["num_ctx"] == 20480  # the plan's, not 131072
    assert listed["deepseek-r1:32b"]["plan"]["total"] == "24.0 GiB"
    assert listed["deepseek-r1:32b"]["plan"]["placement"] == "fits"


def test_ps_says_why_a_model_is_resident(gpu24_cli) -> None:  # type: ignore[no-untyped-def]
    assert gpu24_cli("load", "qwen").exit_code == 0
    (loaded,) = json.loads(gpu24_cli("ps", "--json").stdout)
    assert loaded["name"] == "qwen2.5-coder:32b" and loaded["context_length"] == 20480
    assert "planned at num_ctx 20480; nothing fits beside it" in loaded["why"]
    assert "CPU" not in loaded["why"]


@pytest.fixture
def offloaded_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The CLI with no gpu_memory setting after loading deepseek-r1 at 128K: too big."""
    with OllamaEmulator(gpu_memory=24 * 2**30) as emulator:
        monkeypatch.setenv("ZERO_LLM_HOME", str(tmp_path / "home"))
        runner = CliRunner()

        def run(*args: str):  # type: ignore[no-untyped-def]
            return runner.invoke(app, [*args, "--host", emulator.base_url])

        assert run("load", "r1").exit_code == 0
        yield run


def test_ps_warns_about_a_model_partly_on_the_cpu(offloaded_cli) -> None:  # type: ignore[no-untyped-def]
    (loaded,) = json.loads(offloaded_cli("ps", "--json").stdout)
    assert "on the CPU" in loaded["why"] and "memory.gpu_memory" in loaded["why"]


def test_doctor_checks_the_memory_plan(gpu24_cli) -> None:  # type: ignore[no-untyped-def]
    result = gpu24_cli("doctor", "--json")
    memory = {c["name"]: c for c in json.loads(result.stdout)}["memory"]
    assert memory["status"] == "ok"
    assert "24.0 GiB (from setting)" in memory["detail"]
    assert "deepseek-r1:32b 20480" in memory["detail"]


def test_doctor_fails_a_model_running_partly_on_the_cpu(offloaded_cli) -> None:  # type: ignore[no-untyped-def]
    result = offloaded_cli("doctor", "--json")
    memory = {c["name"]: c for c in json.loads(result.stdout)}["memory"]
    assert result.exit_code == 1 and memory["status"] == "fail"
    assert "deepseek-r1:32b run partly on the CPU" in memory["detail"]
    assert "memory.gpu_memory" in memory["fix"]
