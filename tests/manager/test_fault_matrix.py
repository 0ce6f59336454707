"""Every emulator fault x (invoke, stream, async invoke, async stream).

Each call either recovers within 3 attempts or raises the documented ``ZeroLLMError``
subclass; the history never holds a half answer; a usage record exists either way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import fast_settings
from zero_llm import ModelManager, StreamInterruptedError, ZeroLLMError
from zero_llm.testing import OllamaEmulator

QUESTION = "how are the markets doing this morning"
ANSWER = f"[llama3.1:8b] You said: {QUESTION}"


@dataclass(frozen=True)
class Case:
    """A fault, how to arm it, and what each kind of call must end in."""

    name: str
    arm: Callable[[OllamaEmulator], object]
    streamed: type[ZeroLLMError] | int  # an error type, or the attempts a recovery takes
    whole: type[ZeroLLMError] | int


CASES = [
    # Down 0.5 s; backoff 0.2 s then 0.4 s: the third attempt lands after it is up again,
    # the second before, as long as the first comes within 0.3 s of the fault (0.1 s was
    # too tight on a loaded machine).
    Case("refused", lambda e: e.faults.refuse_connections(0.5), 3, 3),
    Case("500", lambda e: e.faults.fail_next(1, status=500), 2, 2),
    Case("503 busy", lambda e: e.faults.busy_next(2), 3, 3),
    Case("stall past first token", lambda e: e.faults.stall_before_first_chunk(1.0), 2, 2),
    Case("cut before first chunk", lambda e: e.faults.cut_stream_after(0), 2, 1),
    Case("cut after 3 chunks", lambda e: e.faults.cut_stream_after(3), StreamInterruptedError, 1),
    Case("malformed line", lambda e: e.faults.malformed_line_after(3), StreamInterruptedError, 1),
    Case("error line", lambda e: e.faults.error_line_after(3), StreamInterruptedError, 1),
    Case("no done, no chunk", lambda e: e.faults.end_without_done_after(0), 2, 1),
    Case(
        "no done after 3 chunks",
        lambda e: e.faults.end_without_done_after(3),
        StreamInterruptedError,
        1,
    ),
    Case("slow load", lambda e: e.faults.slow_load(0.2), 1, 1),
    Case("model missing", lambda e: e.set_present("llama3.1:8b", False), 1, 1),
]
MODES = ["invoke", "stream", "ainvoke", "astream"]


def call(manager: ModelManager, mode: str) -> str:
    """One query in ``mode``, run to its end; returns the answer text."""
    import asyncio

    async def whole() -> str:
        return str(await manager.query_model("llama", QUESTION, session_id="s"))

    async def streamed() -> str:
        stream = await manager.query_model("llama", QUESTION, stream=True, session_id="s")
        return "".join([chunk async for chunk in stream])

    if mode == "invoke":
        return str(manager.query_model_sync("llama", QUESTION, session_id="s"))
    if mode == "stream":
        return "".join(manager.query_model_sync("llama", QUESTION, stream=True, session_id="s"))
    return asyncio.run(whole() if mode == "ainvoke" else streamed())


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fault_matrix(case: Case, mode: str, tmp_path: Path) -> None:
    with OllamaEmulator() as emulator:
        manager = ModelManager(
            fast_settings(
                emulator.base_url,
                home=tmp_path,
                retry={"initial_backoff": 0.2, "multiplier": 2.0, "jitter": 0.0},
                timeouts={"first_token": 0.5, "response": 0.5, "stall": 2.0, "total": 20.0},
            )
        )
        case.arm(emulator)
        expected = case.streamed if mode in ("stream", "astream") else case.whole
        if isinstance(expected, int):
            assert call(manager, mode) == ANSWER
        else:
            with pytest.raises(expected):
                call(manager, mode)
        manager.usage_recorder.flush_sync()
        (record,) = manager.bridge.run(manager.usage.records())
        stored = manager.history_sync.messages("s")
        if isinstance(expected, int):
            assert record.error_type is None and record.attempts == expected
            assert [(m.role, m.content, m.complete) for m in stored] == [
                ("human", QUESTION, True),
                ("ai", ANSWER, True),
            ]
        else:
            assert record.error_type == expected.__name__
            assert stored == []  # no half answer, and no orphan question either
