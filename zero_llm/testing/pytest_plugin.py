"""The ``ollama_emulator`` pytest fixture (registered through the ``pytest11`` entry point)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from zero_llm.testing.emulator import OllamaEmulator


@pytest.fixture
def ollama_emulator() -> Iterator[OllamaEmulator]:
    """A fresh Ollama emulator on a free loopback port, stopped after the test."""
    with OllamaEmulator() as emulator:
        yield emulator
