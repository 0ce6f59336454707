"""An answer is bounded: in size (``max_answer_chars``), and in time by the call's deadline,
its after-answer counting included, which never holds up the shared event loop."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from aiohttp import web

from tests.app_server import serving
from tests.conftest import fast_settings
from zero_llm import (
    AnswerTooLongError,
    ModelManager,
    OllamaTimeoutError,
    StreamInterruptedError,
)
from zero_llm.testing import OllamaEmulator


async def test_an_answer_past_the_cap_is_refused_and_not_stored(
    emulator: OllamaEmulator, tmp_path: Path
) -> None:
    manager = ModelManager(fast_settings(emulator.base_url, home=tmp_path, max_answer_chars=4096))
    emulator.set_reply("word " * 2000)  # 10,000 characters
    with pytest.raises(AnswerTooLongError, match="max_answer_chars"):
        await manager.query_model("llama", "whole", session_id="s")
    stream = await manager.query_model("llama", "streamed", stream=True, session_id="s")
    with pytest.raises(StreamInterruptedError, match="max_answer_chars") as info:
        await stream.text()
    assert 0 < len(info.value.partial_text) <= 4096 + 64  # bounded, not the whole answer
    emulator.set_reply(None)
    short = await manager.query_model("llama", "short", session_id="s")
    assert [m.content for m in await manager.history.messages("s")] == ["short", str(short)]
    await manager.flush_usage()
    records = await manager.usage.records(session_id="s")
    assert [r.error_type for r in records] == [
        "AnswerTooLongError",
        "StreamInterruptedError",
        None,
    ]
    await manager.aclose()


@pytest.fixture
def flooding(emulator: OllamaEmulator) -> Iterator[str]:
    """The emulator, except that /api/chat streams lines as fast as they can be read.

    It runs in a thread of its own, so the client always finds data ready to read.
    """
    line = json.dumps(
        {
            "model": "llama3.1:8b",
            "created_at": "2026-01-01T00:00:00Z",
            "message": {"role": "assistant", "content": "=" * 8192},
            "done": False,
        }
    ).encode() + b"\n"

    async def chat(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await response.prepare(request)
        ends = time.monotonic() + 15
        try:
            while time.monotonic() < ends:
                await response.write(line * 16)
        except ConnectionError:
            pass
        return response

    async def forward(request: web.Request) -> web.Response:
        async with httpx.AsyncClient(base_url=emulator.base_url) as client:
            answer = await client.request(
                request.method, request.path_qs, content=await request.read()
            )
        return web.Response(
            body=answer.content,
            status=answer.status_code,
            content_type=answer.headers.get("content-type", "application/json").split(";")[0],
        )

    app = web.Application()
    app.router.add_post("/api/chat", chat)
    app.router.add_route("*", "/{tail:.*}", forward)
    with serving(app, cleanup_timeout=40) as url:
        yield url


async def test_the_total_deadline_holds_against_a_flood(flooding: str, tmp_path: Path) -> None:
    timeouts = {"first_token": 20, "stall": 20, "response": 20, "total": 3.0}
    settings = fast_settings(
        flooding,
        home=tmp_path,
        timeouts=timeouts,
        max_answer_chars=10**9,
        retry={"max_attempts": 1},
        window={"exact_counts": False},  # no vocabulary to fetch: the time is the stream's
    )
    manager = ModelManager(settings)
    started = time.perf_counter()
    stream = await manager.query_model("llama", "flood me", stream=True)
    with pytest.raises(StreamInterruptedError) as info:
        await stream.text()
    elapsed = time.perf_counter() - started
    assert isinstance(info.value.__cause__, OllamaTimeoutError)
    assert elapsed < 8, f"the 3 s deadline let the call run {elapsed:.1f}s"
    await manager.aclose()


async def test_counting_a_long_answer_does_not_hold_up_the_event_loop(
    emulator: OllamaEmulator, tmp_path: Path
) -> None:
    manager = ModelManager(fast_settings(emulator.base_url, home=tmp_path))
    await manager.query_model("llama", "warm up", session_id="s")  # the exact counter is ready
    emulator.set_reply("=" * 1_600_000)
    gaps: list[float] = []
    answered = asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not answered.is_set():
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticking = asyncio.create_task(ticker())
    answer = await manager.query_model("llama", "a long one", session_id="s")
    answered.set()
    await ticking
    assert len(str(answer)) == 1_600_000
    stored = await manager.history.messages("s")
    assert stored[-1].token_count > 0  # counted, and stored with the turn
    # Counted on the loop, the 1.6 M characters held every other call for about a second.
    assert max(gaps) < 0.4, f"the event loop was held for {max(gaps):.2f}s"
    await manager.aclose()
