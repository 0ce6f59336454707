"""Benchmark: load the window of a 100,000-message session from SQLite.

zero_llm's ``HistoryStore.window`` (one range scan over the running token sum) against
``SQLChatMessageHistory(...).messages`` from langchain-community (which reads the whole
session), on the same machine in one run, both producing LangChain messages. Each
message is about 100 tokens, so a 128K window holds about 1,280 of them. Prints the best
and median of several repetitions and the ratio. Not a test.

    pip install langchain-community   # the baseline only; zero_llm does not use it
    python benchmarks/history.py
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
import warnings
from pathlib import Path

from langchain_core.messages import AIMessage, HumanMessage, message_to_dict
from sqlalchemy import create_engine, text

from zero_llm.history import HistoryStore, NewMessage

MESSAGES = 100_000
TOKENS_PER_MESSAGE = 100
WINDOW = 128_000


def message(i: int) -> HumanMessage | AIMessage:
    body = f"message {i}: " + "price moved on volume " * 20
    return HumanMessage(body) if i % 2 == 0 else AIMessage(body)


async def fill_ours(store: HistoryStore) -> None:
    batch = 2_000
    for start in range(0, MESSAGES, batch):
        await store.append(
            "bench",
            [NewMessage(message(i), TOKENS_PER_MESSAGE) for i in range(start, start + batch)],
        )


def fill_baseline(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "CREATE TABLE message_store (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                "session_id TEXT, message TEXT)"
            )
        )
        connection.execute(
            text("INSERT INTO message_store (session_id, message) VALUES (:s, :m)"),
            [{"s": "bench", "m": json.dumps(message_to_dict(message(i)))} for i in range(MESSAGES)],
        )
    engine.dispose()


def best_and_median(samples: list[float]) -> str:
    return f"{min(samples) * 1e3:9.1f} ms (median {statistics.median(samples) * 1e3:.1f})"


async def main() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from langchain_community.chat_message_histories import SQLChatMessageHistory

    folder = Path(tempfile.mkdtemp(prefix="zero-llm-bench-"))
    store = HistoryStore(f"sqlite+aiosqlite:///{folder / 'ours.sqlite3'}")
    await fill_ours(store)
    baseline_url = f"sqlite:///{folder / 'baseline.sqlite3'}"
    fill_baseline(baseline_url)
    history = SQLChatMessageHistory(session_id="bench", connection=baseline_url)

    ours: list[float] = []
    loaded = 0
    for _ in range(10):
        started = time.perf_counter()
        window = [m.to_message() for m in await store.window("bench", WINDOW)]
        ours.append(time.perf_counter() - started)
        loaded = len(window)
    theirs: list[float] = []
    for _ in range(3):
        started = time.perf_counter()
        everything = history.messages
        theirs.append(time.perf_counter() - started)
    await store.close()
    print(
        f"session of {MESSAGES:,} messages of ~{TOKENS_PER_MESSAGE} tokens; "
        f"window {WINDOW:,} tokens"
    )
    print(f"zero_llm HistoryStore.window    {best_and_median(ours)}  ({loaded:,} messages)")
    print(
        f"SQLChatMessageHistory.messages  {best_and_median(theirs)}  "
        f"({len(everything):,} messages, all of them)"
    )
    print(f"ratio (baseline / ours, best)   {min(theirs) / min(ours):9.1f}x")


if __name__ == "__main__":
    asyncio.run(main())
