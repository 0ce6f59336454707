"""The ``ollama_emulator`` pytest fixture (registered through the ``pytest11`` entry point)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from zero_llm.testing.emulator import OllamaEmulator


@pytest.fixture
def ollama_emulator() -> Iterator[OllamaEmulator]:
    """A fresh Ollama emulator on a free loopback port, stopped after the test."""
    # Imported here: pytest loads this plugin in every project of an environment where
    # zero-llm is installed, also without the ``emulator`` extra (aiohttp).
    from zero_llm.testing.emulator import OllamaEmulator

    with OllamaEmulator() as emulator:
        yield emulator
