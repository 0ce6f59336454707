"""The fault matrix on the wire: a proxy of our own breaks the connection to the emulator.

Each mode x (whole, streamed) x (sync, async) ends recovered within the retry budget or in
a typed ``ZeroLLMError``, never hangs past its deadline, and never stores a half answer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import fast_settings
from tests.faultproxy import FaultProxy, Mode
from zero_llm import ModelManager, ZeroLLMError
from zero_llm.testing import OllamaEmulator

TOTAL = 3.0
"""The total deadline of every call here (seconds)."""
MODES = [
    "blackhole",
    "html",
    "drip",
    "garbage",
    "truncate",
    "kill",
]


@pytest.fixture
def proxied(emulator: OllamaEmulator) -> Iterator[FaultProxy]:
    with FaultProxy(emulator.port) as proxy:
        yield proxy


def short_deadlines(base_url: str, home: Path) -> ModelManager:
    return ModelManager(
        fast_settings(
            base_url,
            home=home,
            timeouts={
                "connect": 1.0,
                "first_token": 1.0,
                "stall": 1.0,
                "response": 1.5,
                "total": TOTAL,
            },
        )
    )


async def ask_async(manager: ModelManager, streamed: bool, text: str) -> str:
    if streamed:
        stream = await manager.query_model("llama", text, stream=True, session_id="wire")
        return str(await stream.text())
    return str(await manager.query_model("llama", text, session_id="wire"))


def ask_sync(manager: ModelManager, streamed: bool, text: str) -> str:
    result = manager.query_model_sync("llama", text, stream=streamed, session_id="wire")
    return result if isinstance(result, str) else "".join(result)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("caller", ["async", "sync"])
@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("mode", MODES)
async def test_a_broken_wire_ends_typed_in_time_and_stores_no_half_answer(
    proxied: FaultProxy, tmp_path: Path, mode: Mode, streamed: bool, caller: str
) -> None:
    text = "a question " * 20
    async with short_deadlines(proxied.base_url, tmp_path) as reference:
        expected = await reference.query_model("llama", text)  # the proxy passing bytes
    manager = short_deadlines(proxied.base_url, tmp_path)  # no pooled connection left
    proxied.mode = mode
    connections = proxied.connections
    started = time.perf_counter()
    try:
        if caller == "sync":
            answer = await asyncio.to_thread(ask_sync, manager, streamed, text)
        else:
            answer = await ask_async(manager, streamed, text)
        outcome = "answered"
    except ZeroLLMError as error:
        outcome = type(error).__name__
        answer = None
    elapsed = time.perf_counter() - started
    assert proxied.connections > connections  # the call went through the broken wire
    assert elapsed < TOTAL + 1.5, f"{mode}: {outcome} after {elapsed:.1f}s"
    if mode in ("blackhole", "html", "drip", "garbage"):
        assert outcome != "answered", mode  # every attempt meets the fault
    stored = await manager.history.messages("wire")
    if answer is None:
        assert stored == [], f"{mode}: a failed call stored {stored}"
    else:
        assert answer == expected
        assert [m.content for m in stored] == [text, answer]
    proxied.mode = "pass"
    await manager.aclose()
