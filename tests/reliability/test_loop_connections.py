"""Connections to Ollama close with their event loop: `asyncio.run` scripts leak no fds."""

from __future__ import annotations

import asyncio
import gc
import os
from pathlib import Path

from tests.conftest import fast_settings
from zero_llm import ModelManager
from zero_llm.testing import OllamaEmulator


def open_fds() -> int:
    """How many file descriptors this process holds now."""
    return len(os.listdir("/proc/self/fd"))


def test_many_asyncio_run_calls_leave_no_connection_open(
    emulator: OllamaEmulator, tmp_path: Path
) -> None:
    manager = ModelManager(fast_settings(emulator.base_url, home=tmp_path))
    for _ in range(5):  # warm up: database files, the profile, the emulator's threads
        asyncio.run(manager.query_model("llama", "warm up"))
    gc.collect()
    before = open_fds()
    for index in range(200):
        answer = asyncio.run(manager.query_model("llama", f"question {index}"))
        assert str(answer).endswith(f"question {index}")
    gc.collect()
    grown = open_fds() - before
    # Before the fix every run left its connection open (two fds: ours and the emulator's).
    assert grown < 10, f"{grown} file descriptors were left open by 200 asyncio.run calls"
    manager.close()
