"""``zero-llm emulate`` with Ollama's scheduler flags: one log line per load and eviction."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import ollama


def test_emulate_flags_and_its_load_and_eviction_log() -> None:
    command = [
        sys.executable,
        "-m",
        "zero_llm.cli",
        "emulate",
        "--port",
        "0",
        "--gpu-memory",
        "24GiB",
        "--num-parallel",
        "2",
        "--max-loaded-models",
        "2",
        "--max-queue",
        "8",
        "--kv-cache-type",
        "q8_0",
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stderr is not None
        first = process.stderr.readline()
        found = re.search(r"listening on (http://\S+)", first)
        assert found, first
        client = ollama.Client(host=found.group(1))
        client.chat(model="qwen2.5-coder:32b", messages=[], options={"num_ctx": 8192})
        (ps,) = client.ps().models
        # q8_0 KV for 8192 tokens x 2 slots: 256 KiB x 17/32 a token
        assert ps.size == 19851336256 + 8192 * 2 * 262144 * 17 // 32 + 256 * 2**20
        client.chat(model="deepseek-r1:32b", messages=[], options={"num_ctx": 8192})
        lines = [process.stderr.readline() for _ in range(3)]
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert "load qwen2.5-coder:32b num_ctx=8192" in lines[0]
    assert "evict qwen2.5-coder:32b to make room for deepseek-r1:32b" in lines[1]
    assert "load deepseek-r1:32b" in lines[2]


def test_emulate_refuses_a_bad_flag_value() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "zero_llm.cli", "emulate", "--port", "0", "--gpu-memory", "lots"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "not a size: 'lots'" in result.stderr
