"""Ollama's own variables (OLLAMA_*) feed the settings and the memory plan, below ours."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from zero_llm import ConfigurationError, ModelManager
from zero_llm.ollama_env import ollama_settings, ollama_variable_for
from zero_llm.settings import load_settings
from zero_llm.testing import OllamaEmulator


def test_each_variable_is_parsed_as_ollama_reads_it() -> None:
    environ = {
        "OLLAMA_KEEP_ALIVE": "1m",
        "OLLAMA_CONTEXT_LENGTH": "8192",
        "OLLAMA_NUM_PARALLEL": "2",
        "OLLAMA_KV_CACHE_TYPE": "Q8_0",
        "OLLAMA_MAX_LOADED_MODELS": "1",
        "OLLAMA_FLASH_ATTENTION": "1",
    }
    assert ollama_settings(environ) == {
        "keep_alive": "1m",
        "context_window": 8192,
        "memory": {
            "num_parallel": 2,
            "kv_cache_type": "q8_0",
            "max_loaded_models": 1,
            "flash_attention": True,
        },
    }
    assert ollama_settings({"OLLAMA_KEEP_ALIVE": "-1"}) == {"keep_alive": -1}
    # 0 is Ollama's "choose for me", an empty value is "not set"
    assert ollama_settings({"OLLAMA_NUM_PARALLEL": "0", "OLLAMA_CONTEXT_LENGTH": ""}) == {}
    assert ollama_variable_for(("memory", "num_parallel"), environ) == "OLLAMA_NUM_PARALLEL"
    assert ollama_variable_for(("memory", "num_parallel"), {}) is None


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OLLAMA_KEEP_ALIVE", "soon"),
        ("OLLAMA_NUM_PARALLEL", "two"),
        ("OLLAMA_KV_CACHE_TYPE", "q5_1"),
        ("OLLAMA_FLASH_ATTENTION", "maybe"),
        ("OLLAMA_MAX_LOADED_MODELS", "-1"),
    ],
)
def test_a_bad_value_is_named_with_its_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match=name):
        load_settings()


def test_they_feed_settings_below_our_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OLLAMA_KEEP_ALIVE", "1m")
    monkeypatch.setenv("OLLAMA_CONTEXT_LENGTH", "8192")
    monkeypatch.setenv("OLLAMA_NUM_PARALLEL", "2")
    monkeypatch.setenv("OLLAMA_KV_CACHE_TYPE", "q8_0")
    monkeypatch.setenv("OLLAMA_MAX_LOADED_MODELS", "1")
    settings = load_settings()
    assert settings.context_window == 8192
    assert settings.memory.num_parallel == 2 and settings.memory.max_loaded_models == 1
    assert settings.memory.planned_kv_cache_type() == "q8_0"
    assert {spec.keep_alive for spec in settings.models.values()} == {"1m"}
    memory = settings.memory
    assert (memory.quick_keep_alive, memory.busy_keep_alive, memory.idle_keep_alive) == (
        "1m",
        "1m",
        "1m",
    )
    # flash attention off: Ollama runs an f16 cache whatever the type says
    monkeypatch.setenv("OLLAMA_FLASH_ATTENTION", "false")
    assert load_settings().memory.planned_kv_cache_type() == "f16"
    # our own names win: the TOML file, then ZERO_LLM_*
    monkeypatch.chdir(tmp_path)
    (tmp_path / "zero_llm.toml").write_text(
        'context_window = 16384\n[memory]\nbusy_keep_alive = "45m"\n'
        '[models.code]\nkeep_alive = "10m"\n'
    )
    settings = load_settings()
    assert settings.context_window == 16384
    assert settings.memory.busy_keep_alive == "45m" and settings.memory.idle_keep_alive == "1m"
    assert settings.models["code"].keep_alive == "10m"
    assert settings.models["quick"].keep_alive == "1m"
    monkeypatch.setenv("ZERO_LLM_CONTEXT_WINDOW", "4096")
    monkeypatch.setenv("ZERO_LLM_MEMORY__NUM_PARALLEL", "3")
    settings = load_settings()
    assert settings.context_window == 4096 and settings.memory.num_parallel == 3


async def test_keep_alive_and_window_reach_ollama(
    emulator: OllamaEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OLLAMA_KEEP_ALIVE", "1m")
    monkeypatch.setenv("OLLAMA_CONTEXT_LENGTH", "8192")
    async with ModelManager(ollama_host=emulator.base_url) as manager:
        result = await manager.load_model("llama3.1:8b")
        await manager.query_model("llama3.1:8b", "hello")
    assert result.num_ctx == 8192
    bodies = [r.body or {} for r in emulator.requests_to("/api/chat")]
    assert bodies and {b.get("keep_alive") for b in bodies} == {"1m"}
    assert {(b.get("options") or {}).get("num_ctx") for b in bodies} == {8192}


async def test_the_memory_plan_uses_them(
    emulator: OllamaEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZERO_LLM_MEMORY__GPU_MEMORY", "24GiB")
    async with ModelManager(ollama_host=emulator.base_url) as manager:
        f16 = await manager.memory_plan()
    monkeypatch.setenv("OLLAMA_KV_CACHE_TYPE", "q8_0")
    monkeypatch.setenv("OLLAMA_NUM_PARALLEL", "2")
    async with ModelManager(ollama_host=emulator.base_url) as manager:
        q8 = await manager.memory_plan()
    assert (f16.kv_cache_type, f16.num_parallel) == ("f16", 1)
    assert (q8.kv_cache_type, q8.num_parallel) == ("q8_0", 2)


def test_config_names_the_ollama_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_KEEP_ALIVE", "1m")
    monkeypatch.setenv("OLLAMA_NUM_PARALLEL", "2")
    done = subprocess.run(
        [sys.executable, "-m", "zero_llm.cli", "config", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = {r["name"]: (r["value"], r["source"]) for r in json.loads(done.stdout)["settings"]}
    assert rows["memory.num_parallel"] == ("2", "env OLLAMA_NUM_PARALLEL")
    assert rows["keep_alive"] == ("1m", "env OLLAMA_KEEP_ALIVE")
    assert rows["memory.idle_keep_alive"] == ("1m", "keep_alive (env OLLAMA_KEEP_ALIVE)")
    assert rows["memory.kv_cache_type"] == ("f16", "default")
