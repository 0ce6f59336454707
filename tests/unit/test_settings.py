"""Settings come from arguments > env > zero_llm.toml > defaults, and fail clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from zero_llm import ConfigurationError, ModelManager
from zero_llm.settings import DEFAULT_OLLAMA_HOST, load_settings


def test_defaults() -> None:
    settings = load_settings()
    assert settings.ollama_base_url == DEFAULT_OLLAMA_HOST
    assert settings.context_window == 131072
    assert settings.models["code"].name == "qwen2.5-coder:32b"
    assert settings.retry.max_attempts == 3 and settings.auto_pull is True


def test_ollama_host_is_honoured_and_zero_llm_prefix_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_HOST", "10.1.2.3")
    assert load_settings().ollama_base_url == "http://10.1.2.3:11434"
    monkeypatch.setenv("ZERO_LLM_OLLAMA_HOST", "box:9999")
    assert load_settings().ollama_base_url == "http://box:9999"
    assert load_settings(ollama_host="http://arg:1").ollama_base_url == "http://arg:1"


def test_nested_env_and_partial_model_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZERO_LLM_RETRY__MAX_ATTEMPTS", "2")
    monkeypatch.setenv("ZERO_LLM_MODELS__CODE__NAME", "qwen2.5-coder:7b")
    settings = load_settings()
    assert settings.retry.max_attempts == 2
    assert settings.models["code"].name == "qwen2.5-coder:7b"
    assert settings.models["code"].tasks == ("code", "coding", "programming")  # kept
    assert ModelManager(settings).switch_model("code") == "qwen2.5-coder:7b"


def test_toml_file_below_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "zero_llm.toml").write_text(
        'context_window = 65536\nauto_pull = false\n[models.quick]\nname = "llama3.2:3b"\n'
    )
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.context_window == 65536 and settings.auto_pull is False
    assert settings.models["quick"].name == "llama3.2:3b"
    monkeypatch.setenv("ZERO_LLM_CONTEXT_WINDOW", "4096")
    assert load_settings().context_window == 4096


def test_config_file_env_names_another_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "elsewhere.toml"
    path.write_text("default_role = 'code'\n")
    monkeypatch.setenv("ZERO_LLM_CONFIG_FILE", str(path))
    assert ModelManager().switch_model("anything") == "qwen2.5-coder:32b"


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"context_window": 0}, "context_window"),
        ({"default_role": "nobody"}, "default_role"),
        ({"retry": {"max_attempts": 0}}, "max_attempts"),
        ({"models": {"code": {"fallbacks": ["ghost"]}}}, "ghost"),
        ({"models": {"quick": {"name": "  "}}}, "name"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_settings_raise_configuration_error(overrides: dict, needle: str) -> None:
    with pytest.raises(ConfigurationError, match=needle):
        ModelManager(**overrides)
