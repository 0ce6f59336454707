"""A hostile or broken server: an endless line, a huge vocabulary. Bounded, typed, in time."""

from __future__ import annotations

import asyncio
import resource
import time
from collections.abc import AsyncIterator

import pytest

from tests.conftest import fast_settings
from zero_llm import ModelManager, ZeroLLMError
from zero_llm.ollama.client import MAX_LINE_BYTES
from zero_llm.vocab import MAX_VOCABULARY, UnsupportedVocabularyError, encoding_from_gguf

HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n"
)


@pytest.fixture
async def endless_line() -> AsyncIterator[str]:
    """A server that answers every request 200 with a line that never ends."""
    piece = b"a" * 2**16
    chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(HEAD)
            while True:
                writer.write(chunk)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.close()


async def test_an_endless_line_ends_in_a_typed_error_with_memory_bounded(
    endless_line: str,
) -> None:
    timeouts = {"connect": 2, "first_token": 60, "stall": 60, "response": 60, "total": 120}
    manager = ModelManager(fast_settings(endless_line, timeouts=timeouts))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    started = time.perf_counter()
    with pytest.raises(ZeroLLMError, match="without a line break"):
        await manager.query_model("llama", "hello")
    elapsed = time.perf_counter() - started
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
    assert elapsed < 30  # cut by size, long before the 120 s deadline
    assert grown < 6 * MAX_LINE_BYTES  # a few buffers of one line, never the stream
    await manager.aclose()


def test_a_huge_vocabulary_is_refused_before_it_is_built() -> None:
    tokens = [f"t{i}" for i in range(MAX_VOCABULARY + 1)]
    started = time.perf_counter()
    with pytest.raises(UnsupportedVocabularyError, match="hostile"):
        encoding_from_gguf("huge", tokens, ["t0 t1"], None, "llama-bpe")
    assert time.perf_counter() - started < 1.0
