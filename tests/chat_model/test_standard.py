"""LangChain's own standard tests for ZeroChatModel, against the emulator.

Being a LangChain citizen is checked by LangChain's suite (``langchain-tests``, the version
matching the installed langchain-core), not by ours alone. Each test that cannot pass
says why: a feature Ollama lacks (``tool_choice``); the image test sends a PNG made here
instead of downloading one.
"""

from __future__ import annotations

import base64
import struct
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langchain_tests.integration_tests import ChatModelIntegrationTests
from langchain_tests.unit_tests import ChatModelUnitTests

from zero_llm import ZeroChatModel
from zero_llm.testing import OllamaEmulator

FAST = {
    "retry": {"initial_backoff": 0.01, "max_backoff": 0.05},
    "timeouts": {"connect": 2.0, "first_token": 10.0, "stall": 10.0, "response": 20.0},
}


class TestZeroChatModelUnit(ChatModelUnitTests):
    """The unit half: construction, binding tools, structured output, standard params."""

    @property
    def chat_model_class(self) -> type[ZeroChatModel]:
        return ZeroChatModel

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"model": "llama3.1:8b"}

    @property
    def model_override_value(self) -> str:
        return "qwen2.5-coder:32b"

    @property
    def has_tool_choice(self) -> bool:
        return False  # Ollama has no tool_choice


@pytest.fixture(scope="module")
def shared_emulator() -> Iterator[OllamaEmulator]:
    """One emulator for the whole integration class (the tests only read from it)."""
    with OllamaEmulator() as emu:
        TestZeroChatModelIntegration.host = emu.base_url
        TestZeroChatModelIntegration.emulator = emu
        yield emu


@pytest.mark.usefixtures("shared_emulator")
class TestZeroChatModelIntegration(ChatModelIntegrationTests):
    """The integration half: invoke, stream, batch, usage, tools, structured output."""

    host = ""
    emulator: OllamaEmulator

    @property
    def chat_model_class(self) -> type[ZeroChatModel]:
        return ZeroChatModel

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"model": "llama3.1:8b", "settings": {"ollama_host": self.host, **FAST}}

    @property
    def model_override_value(self) -> str:
        return "qwen2.5-coder:32b"

    @property
    def has_tool_choice(self) -> bool:
        return False  # Ollama has no tool_choice

    @property
    def supports_json_mode(self) -> bool:
        return True

    @property
    def supports_image_inputs(self) -> bool:
        return True

    def test_image_inputs(self, model: Any) -> None:
        """The standard test's two base64 forms, with a PNG made here (it downloads its own)."""
        data = base64.b64encode(_tiny_png()).decode()
        blocks: list[dict[str, Any]] = [
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{data}"}},
            {"type": "image", "base64": data, "mime_type": "image/png"},
        ]
        for block in blocks:
            text = {"type": "text", "text": "Give a concise description of this image."}
            answer = model.invoke([HumanMessage(content=[text, block])])
            assert isinstance(answer, AIMessage) and answer.text
            sent = self.emulator.requests_to("/api/chat")[-1].body or {}
            assert sent["messages"][-1]["images"] == [data]


def _tiny_png() -> bytes:
    """A valid 1x1 white PNG."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\xff\xff")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )
