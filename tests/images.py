"""LangChain's standard image test without the internet: a PNG made here, checked on the wire."""

from __future__ import annotations

import base64
import struct
import zlib
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage

from zero_llm.testing import OllamaEmulator


def tiny_png() -> bytes:
    """A valid 1x1 white PNG."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\xff\xff")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def check_image_inputs(model: BaseChatModel, emulator: OllamaEmulator) -> None:
    """The standard test's two base64 forms reach Ollama as the message's ``images``."""
    data = base64.b64encode(tiny_png()).decode()
    blocks: list[dict[str, Any]] = [
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{data}"}},
        {"type": "image", "base64": data, "mime_type": "image/png"},
    ]
    for block in blocks:
        text = {"type": "text", "text": "Give a concise description of this image."}
        answer = model.invoke([HumanMessage(content=[text, block])])
        assert isinstance(answer, AIMessage) and answer.text
        sent = emulator.requests_to("/api/chat")[-1].body or {}
        assert sent["messages"][-1]["images"] == [data]
