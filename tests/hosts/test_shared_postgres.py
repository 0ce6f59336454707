"""Two manager processes share one PostgreSQL: no lost and no duplicated turns."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap

import pytest

from zero_llm import ModelManager
from zero_llm.testing import OllamaEmulator

WORKER = textwrap.dedent(
    """
    import asyncio, sys
    from zero_llm import ModelManager

    async def main(host: str, url: str, name: str) -> None:
        manager = ModelManager(ollama_host=host, history_url=url, retry={"initial_backoff": 0.01})
        async def turn(i: int) -> None:
            session = f"shared-{i % 3}"  # both processes write the same three sessions
            await manager.ask(f"{name} turn {i}", task="quick", session_id=session)
        await asyncio.gather(*(turn(i) for i in range(15)))
        await manager.aclose()

    asyncio.run(main(*sys.argv[1:4]))
    """
)


@pytest.mark.parametrize("history_url", ["postgresql"], indirect=True)
async def test_two_processes_share_history_and_usage(
    emulator: OllamaEmulator, history_url: str
) -> None:
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, emulator.base_url, history_url, name],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("alpha", "beta")
    ]
    for process in processes:
        _, err = await asyncio.to_thread(process.communicate, timeout=120)
        assert process.returncode == 0, err
    manager = ModelManager(ollama_host=emulator.base_url, history_url=history_url)
    questions: list[str] = []
    for session in ("shared-0", "shared-1", "shared-2"):
        stored = await manager.history.messages(session)
        seqs = [m.seq for m in stored]
        assert seqs == sorted(set(seqs))  # unique and ordered
        assert [m.role for m in stored] == ["human", "ai"] * 10  # each turn whole, in one piece
        humans, answers = stored[0::2], stored[1::2]
        for question, answer in zip(humans, answers, strict=True):
            assert answer.content == f"[llama3.1:8b] You said: {question.content}"
        questions += [m.content for m in humans]
    expected = {f"{name} turn {i}" for name in ("alpha", "beta") for i in range(15)}
    assert sorted(questions) == sorted(expected)  # none lost, none twice
    records = await manager.usage.records()
    assert len(records) == 30 and len({r.request_id for r in records}) == 30
    await manager.aclose()
