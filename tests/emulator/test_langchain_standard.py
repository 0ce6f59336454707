"""LangChain's standard integration tests on a plain ChatOllama pointed at the emulator.

Configured as langchain-ollama configures them against a real Ollama (llama3.1, JSON mode,
image inputs, no ``tool_choice``). Marked: what needs the internet or a feature Ollama lacks.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_ollama import ChatOllama
from langchain_tests.integration_tests import ChatModelIntegrationTests

from tests.images import check_image_inputs
from zero_llm.testing import OllamaEmulator

_emulator: OllamaEmulator | None = None


@pytest.fixture(scope="module", autouse=True)
def _served() -> Iterator[None]:
    global _emulator
    with OllamaEmulator() as emulator:
        _emulator = emulator
        yield
    _emulator = None


class TestChatOllamaOnTheEmulator(ChatModelIntegrationTests):
    """ChatOllama(model="llama3.1:8b") against the emulator."""

    @property
    def chat_model_class(self) -> type[ChatOllama]:
        return ChatOllama

    @property
    def chat_model_params(self) -> dict[str, Any]:
        assert _emulator is not None
        return {"model": "llama3.1:8b", "base_url": _emulator.base_url, "num_ctx": 2048}

    @property
    def supports_image_inputs(self) -> bool:
        return True

    @property
    def supports_json_mode(self) -> bool:
        return True

    @property
    def has_tool_choice(self) -> bool:
        return False  # Ollama has no tool_choice: the suite skips test_tool_choice for it

    @pytest.mark.xfail(reason="downloads an image from the internet; these machines have none")
    def test_image_inputs(self, model: BaseChatModel) -> None:
        super().test_image_inputs(model)

    def test_image_inputs_made_here(self, model: BaseChatModel) -> None:
        """The standard image test's two base64 forms, with a PNG made in the test."""
        assert _emulator is not None
        check_image_inputs(model, _emulator)
