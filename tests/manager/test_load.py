"""Load: 1,000 requests at concurrency 100 across 20 sessions, 10% transient faults.

Bounded in count and time, loopback only. Every request ends in an answer or a typed
error; each session's history holds exactly its completed turns, in order; no task or
connection is left behind; memory stays flat (reported).
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from pathlib import Path

import pytest

from tests.conftest import fast_settings
from zero_llm import ModelManager, ZeroLLMError
from zero_llm.testing import OllamaEmulator

REQUESTS = 1_000
CONCURRENCY = 100
SESSIONS = 20


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    import os

    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.load
@pytest.mark.timeout(300)
async def test_load(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with OllamaEmulator() as emulator:
        manager = ModelManager(
            fast_settings(
                emulator.base_url,
                home=tmp_path,
                retry={"initial_backoff": 0.01, "max_backoff": 0.05},
            )
        )
        await manager.query_model("llama", "warm up")
        emulator.faults.fail_randomly(0.10, status=503, seed=7)
        gate = asyncio.Semaphore(CONCURRENCY)
        outcomes: dict[int, str] = {}
        rss: list[float] = []

        async def one(i: int) -> None:
            async with gate:
                session = f"load-{i % SESSIONS}"
                try:
                    if i % 2:
                        await manager.query_model("llama", f"q{i}", session_id=session)
                    else:
                        stream = await manager.query_model(
                            "llama", f"q{i}", stream=True, session_id=session
                        )
                        await stream.text()
                    outcomes[i] = "ok"
                except ZeroLLMError as error:
                    outcomes[i] = type(error).__name__
                if i % 200 == 199:
                    rss.append(rss_mib())

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(REQUESTS)))
        elapsed = time.perf_counter() - started
        await manager.flush_usage()

        assert len(outcomes) == REQUESTS
        assert set(outcomes.values()) <= {"ok", "OllamaBusyError"}
        injected = emulator.faults.fired.count("status")
        assert injected > 50  # about 10% of all attempts failed on purpose
        done: dict[str, list[str]] = defaultdict(list)
        for i, result in outcomes.items():
            if result == "ok":
                done[f"load-{i % SESSIONS}"].append(f"q{i}")
        for s in range(SESSIONS):
            session = f"load-{s}"
            stored = await manager.history.messages(session)
            questions = [m.content for m in stored[::2]]
            assert sorted(questions) == sorted(done[session])
            assert [m.seq for m in stored] == list(range(1, len(stored) + 1))
            for question, answer in zip(stored[::2], stored[1::2], strict=True):
                assert (question.role, answer.role) == ("human", "ai")
                assert answer.content == f"[llama3.1:8b] You said: {question.content}"
        records = await manager.usage.records(limit=10_000)
        assert len(records) == REQUESTS + 1

        await manager.aclose()
        await asyncio.sleep(0.2)
        assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []
        server = emulator._runner.server if emulator._runner else None
        assert server is not None and len(server.connections) == 0
        growth = rss[-1] - rss[1]
        with capsys.disabled():
            print(
                f"\nload: {REQUESTS} requests in {elapsed:.1f}s "
                f"({REQUESTS / elapsed:.0f}/s), {injected} injected 503s, "
                f"RSS {' -> '.join(f'{x:.0f}' for x in rss)} MiB"
            )
        assert growth < 64, f"memory grew {growth:.0f} MiB after warm-up"
