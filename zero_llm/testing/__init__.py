"""Testing aids shipped with zero_llm: an Ollama-compatible emulator and its pytest fixture."""

from zero_llm.testing.catalog import DEFAULT_EMULATED_MODELS, EmulatedModel
from zero_llm.testing.emulator import OllamaEmulator
from zero_llm.testing.faults import Faults
from zero_llm.testing.server import RecordedRequest

__all__ = [
    "DEFAULT_EMULATED_MODELS",
    "EmulatedModel",
    "Faults",
    "OllamaEmulator",
    "RecordedRequest",
]
