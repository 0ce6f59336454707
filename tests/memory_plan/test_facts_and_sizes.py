"""ModelFacts from model_info, memory sizes, the memory settings and nvidia-smi."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.memory_plan.models import CODER, DEEPSEEK, LLAMA, LLAMA_INFO
from zero_llm.errors import ConfigurationError
from zero_llm.memory_plan import (
    ModelFacts,
    OffloadWatch,
    detect_gpu_memory,
    format_bytes,
    parse_memory_size,
    resolve_gpu_budget,
)
from zero_llm.settings import MemorySettings, load_settings
from zero_llm.testing.catalog import default_models

KiB = 1024
GiB = 1024**3


def test_kv_cost_per_token_matches_the_known_models() -> None:
    # 2 x layers x kv_heads x head_dim x 2 bytes (f16)
    assert DEEPSEEK.kv_bytes(1, bytes_per_element=2) == 256 * KiB
    assert CODER.kv_bytes(1, bytes_per_element=2) == 256 * KiB
    assert LLAMA.kv_bytes(1, bytes_per_element=2) == 128 * KiB
    # 128K tokens of a 32B model: 32 GiB at f16, halved by q8_0, quartered by q4_0
    assert DEEPSEEK.kv_bytes(131072, bytes_per_element=2) == 32 * GiB
    assert DEEPSEEK.kv_bytes(131072, bytes_per_element=1) == 16 * GiB
    assert DEEPSEEK.kv_bytes(131072, bytes_per_element=0.5) == 8 * GiB
    assert LLAMA.kv_bytes(8192, bytes_per_element=2, num_parallel=4) == 4 * GiB
    assert DEEPSEEK.context_length == 131072 and CODER.context_length == 32768
    assert not DEEPSEEK.estimated


def test_per_layer_head_counts_and_distinct_key_value_lengths() -> None:
    info = {
        "general.architecture": "mix",
        "mix.block_count": 4,
        "mix.attention.head_count": [8, 8, 0, 8],
        "mix.attention.head_count_kv": [2, 2, 0, 4],  # layer 3 is recurrent: no cache
        "mix.attention.key_length": 192,
        "mix.attention.value_length": 128,
        "mix.context_length": 4096,
    }
    facts = ModelFacts.from_model_info("mix", info, 10)
    assert facts.kv_elements_per_token == (2 + 2 + 4) * (192 + 128)


def test_head_dim_falls_back_to_embedding_over_heads_and_kv_heads_to_heads() -> None:
    info = {
        "general.architecture": "old",
        "old.block_count": 10,
        "old.attention.head_count": 16,
        "old.embedding_length": 2048,
        "old.context_length": 2048,
    }
    facts = ModelFacts.from_model_info("old", info, 10)
    assert facts.kv_elements_per_token == 10 * 16 * (128 + 128)
    without_kv = {k: v for k, v in LLAMA_INFO.items() if "head_count_kv" not in k}
    assert ModelFacts.from_model_info("x", without_kv, 1).kv_elements_per_token == 32 * 32 * 256


def test_the_emulators_show_answer_gives_the_real_models_kv_size() -> None:
    by_name = {m.name: m for m in default_models()}
    # f16 KV bytes per token: 2 (K and V) x layers x KV heads x head size x 2 bytes.
    for name, real in [
        ("llama3.1:8b", 2 * 32 * 8 * 128 * 2),
        ("deepseek-r1:32b", 2 * 64 * 8 * 128 * 2),
    ]:
        emulated = by_name[name]
        facts = ModelFacts.from_model_info(name, emulated.model_info(verbose=False), emulated.size)
        assert not facts.estimated  # the emulator now reports head counts and sizes
        assert facts.context_length == emulated.context_length
        assert facts.kv_bytes(1, bytes_per_element=2) == real


def test_parse_memory_size() -> None:
    assert parse_memory_size("24GiB") == 24 * GiB
    assert parse_memory_size("24GB") == 24 * 1000**3
    assert parse_memory_size("80 GiB") == 80 * GiB
    assert parse_memory_size("512mib") == 512 * 1024**2
    assert parse_memory_size("1.5 GiB") == 3 * GiB // 2
    assert parse_memory_size(123456) == 123456
    assert parse_memory_size("123456") == 123456
    for bad in ("24 apples", "", "GiB", "-3GiB", 0, -5, True):
        with pytest.raises(ConfigurationError) as caught:
            parse_memory_size(bad, what="memory.gpu_memory")  # type: ignore[arg-type]
        assert repr(bad) in str(caught.value) and "memory.gpu_memory" in str(caught.value)


def test_format_bytes() -> None:
    assert format_bytes(None) == "unlimited"
    assert format_bytes(24 * GiB) == "24.0 GiB"
    assert format_bytes(3 * 1024**2 // 2) == "1.5 MiB"
    assert format_bytes(12) == "12 B"


def test_memory_settings_from_env_and_bad_values_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZERO_LLM_MEMORY__GPU_MEMORY", "24GiB")
    monkeypatch.setenv("ZERO_LLM_MEMORY__KV_CACHE_TYPE", "q8_0")
    settings = load_settings()
    assert settings.memory.gpu_memory_bytes() == 24 * GiB
    assert settings.memory.kv_cache_type == "q8_0"
    assert settings.memory.num_parallel == 1 and settings.memory.max_swap_wait == 60.0
    assert settings.memory.linger == 8.0
    monkeypatch.setenv("ZERO_LLM_MEMORY__GPU_MEMORY", "lots")
    with pytest.raises(ConfigurationError, match="'lots' is not a size"):
        load_settings()
    monkeypatch.delenv("ZERO_LLM_MEMORY__GPU_MEMORY")
    with pytest.raises(ConfigurationError, match="kv_cache_type"):
        load_settings(memory={"kv_cache_type": "q5_1"})
    assert MemorySettings().gpu_memory_bytes() is None


def _fake_nvidia_smi(directory: Path, output: str, code: int = 0) -> None:
    script = directory / "nvidia-smi"
    script.write_text(f"#!/bin/sh\nprintf '{output}'\nexit {code}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


def test_gpu_budget_setting_then_nvidia_smi_then_unlimited(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert detect_gpu_memory() is None
    budget = resolve_gpu_budget(MemorySettings())
    assert budget.bytes is None and budget.source == "unknown"
    assert "unlimited" in budget.describe()

    _fake_nvidia_smi(tmp_path, "24576\\n24576\\n")  # two 24 GiB cards, MiB each
    assert detect_gpu_memory() == 48 * GiB
    budget = resolve_gpu_budget(MemorySettings())
    assert (budget.bytes, budget.source) == (48 * GiB, "nvidia-smi")
    assert budget.describe() == "48.0 GiB (from nvidia-smi)"
    configured = resolve_gpu_budget(MemorySettings(gpu_memory="24GiB"))
    assert (configured.bytes, configured.source) == (24 * GiB, "setting")

    _fake_nvidia_smi(tmp_path, "No devices were found\\n", code=9)
    assert detect_gpu_memory() is None
    _fake_nvidia_smi(tmp_path, "[N/A]\\n")
    assert detect_gpu_memory() is None
    assert os.environ["PATH"] == str(tmp_path)


def test_offload_watch_warns_once_per_model() -> None:
    from ollama import ProcessResponse

    watch = OffloadWatch()
    fine = {"model": "llama3.1:8b", "size": 9 * GiB, "size_vram": 9 * GiB}
    split = {"model": "deepseek-r1:32b", "size": 51 * GiB, "size_vram": 24 * GiB}
    assert watch.check([fine]) == []
    [warning] = watch.check([fine, split])
    assert "deepseek-r1:32b is partly on the CPU" in warning
    assert "27.0 GiB of 51.0 GiB" in warning and "gpu_memory" in warning
    assert watch.check([split]) == []  # once
    response = ProcessResponse.model_validate(
        {"models": [{"model": "qwen2.5-coder:32b", "size": 30 * GiB, "size_vram": 20 * GiB}]}
    )
    [again] = watch.check(response.models)  # the ollama client's own objects
    assert again.startswith("qwen2.5-coder:32b is partly on the CPU")
    assert watch.check([{"model": "x", "size": None}]) == []
