"""A user's settings mistake is named: unknown names with "did you mean", TOML syntax errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from zero_llm import ConfigurationError
from zero_llm.settings import load_settings


@pytest.mark.parametrize(
    ("variable", "meant"),
    [
        ("ZERO_LLM_CONTEXT_WINDOWS", "ZERO_LLM_CONTEXT_WINDOW"),
        ("ZERO_LLM_MEMORY__NUM_PARALEL", "ZERO_LLM_MEMORY__NUM_PARALLEL"),
        ("ZERO_LLM_MODELS__CODE__NAM", "ZERO_LLM_MODELS__CODE__NAME"),
        ("ZERO_LLM_RETRY__MAX_ATEMPTS", "ZERO_LLM_RETRY__MAX_ATTEMPTS"),
    ],
)
def test_an_unknown_variable_is_an_error_with_did_you_mean(
    monkeypatch: pytest.MonkeyPatch, variable: str, meant: str
) -> None:
    monkeypatch.setenv(variable, "2")
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert f"{variable} is not a zero_llm setting; did you mean {meant}?" in str(caught.value)


def test_variables_that_are_not_settings_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZERO_LLM_CONFIG_FILE", "nowhere.toml")
    monkeypatch.setenv("ZERO_LLM_MODELS__VISION__NAME", "llava:7b")  # a new role is fine
    monkeypatch.setenv("ZERO_LLM_MODELS__VISION__TASKS", '["vision"]')
    assert load_settings().models["vision"].name == "llava:7b"


def test_an_unknown_toml_key_is_named_with_did_you_mean(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "zero_llm.toml").write_text("context_windows = 5\n[window]\nexact_count = false\n")
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    message = str(caught.value)
    assert "context_windows: not a setting; did you mean 'context_window'?" in message
    assert "window.exact_count: not a setting; did you mean 'exact_counts'?" in message


def test_a_misspelt_role_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "zero_llm.toml").write_text('[models.cdoe]\nname = "qwen2.5-coder:7b"\n')
    with pytest.raises(ConfigurationError, match=r"models\.cdoe.*did you mean 'code'"):
        load_settings()
    (tmp_path / "zero_llm.toml").write_text('default_role = "quik"\n')
    with pytest.raises(ConfigurationError, match="did you mean 'quick'"):
        load_settings()


def test_a_toml_syntax_error_is_one_line_without_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "zero_llm.toml").write_text('context_window = 8192\n[models\nname = "x"\n')
    for command in (["route", "hello"], ["doctor"], ["config"], ["sessions", "list"]):
        done = subprocess.run(
            [sys.executable, "-m", "zero_llm.cli", *command],
            capture_output=True,
            text=True,
            cwd=tmp_path,
        )
        assert done.returncode == 1, (command, done.stderr)
        lines = (done.stdout + done.stderr).splitlines()
        assert "Traceback" not in done.stderr, (command, done.stderr)
        assert any("zero_llm.toml:2:8: invalid TOML: Expected" in line for line in lines), (
            command,
            done.stderr,
        )
    verbose = subprocess.run(
        [sys.executable, "-m", "zero_llm.cli", "route", "hello", "-v"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert "Traceback" in verbose.stderr and "TOMLDecodeError" in verbose.stderr


def test_postgres_without_asyncpg_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "asyncpg", None)  # as if not installed
    monkeypatch.setenv("ZERO_LLM_HISTORY_URL", "postgresql+asyncpg://zero:hunter2@db/zero")
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    message = str(caught.value)
    assert "asyncpg" in message and "pip install 'zero-llm[postgres]'" in message
    assert "hunter2" not in message
    monkeypatch.setenv("ZERO_LLM_HISTORY_URL", "sqlite+aiosqlite:///x.sqlite3")
    assert load_settings().history_url == "sqlite+aiosqlite:///x.sqlite3"


def test_a_misspelt_fallback_or_tool_model_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "zero_llm.toml").write_text('[models.code]\nfallbacks = ["quik"]\n')
    with pytest.raises(ConfigurationError, match=r"fallback 'quik'.*did you mean 'quick'"):
        load_settings()
    (tmp_path / "zero_llm.toml").write_text('[models.reasoning]\ntool_model = "qiuck"\n')
    with pytest.raises(ConfigurationError, match=r"tool_model 'qiuck'.*did you mean 'quick'"):
        load_settings()
