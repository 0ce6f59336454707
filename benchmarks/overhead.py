"""Benchmark: what zero_llm costs on top of Ollama, against the emulator on loopback.

Rows, each against its baselines in the same run (best and median of repetitions):

1. per-call overhead, non-streamed, short prompt and 10K-token history: ModelManager vs
   the raw ``ollama.AsyncClient().chat`` vs a bare ``ChatOllama.ainvoke`` vs the plain
   LangChain chain (``RunnableBranch`` -> ``trim_messages`` -> ``with_retry``);
2. streaming relay cost per chunk over 20,000 chunks (same four);
3. 200 concurrent requests: throughput of the manager vs the raw client and ChatOllama;
4. router classification cost per request;
6. building a ``ModelManager`` (and its first call's client set-up).

The manager is held the way async code holds it, ``async with`` (its connections on this
loop); row 1 also times one that is never entered (its pool on the sync bridge's loop).

Rows 5 (window fitting, history window load) are ``benchmarks/window.py`` and
``benchmarks/history.py``. Not a test: numbers, no verdicts.

    python benchmarks/overhead.py
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from importlib.metadata import version
from typing import Any

import ollama
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.messages.utils import trim_messages
from langchain_core.runnables import RunnableBranch, RunnableLambda
from langchain_core.tools import tool
from langchain_ollama import ChatOllama

from zero_llm import ModelManager
from zero_llm.routing.router import classify_text
from zero_llm.testing.vocabularies import vocab_tokenizer

NUM_CTX = 131072
REPEAT = 30


@tool
def get_price(ticker: str) -> str:
    """The last traded price of a stock ticker."""
    return f"{ticker} 100.0"


@tool
def get_news(ticker: str) -> str:
    """Today's headlines about a stock ticker."""
    return f"nothing new on {ticker}"


def history_of(tokens: int) -> list[BaseMessage]:
    messages: list[BaseMessage] = [SystemMessage("You are ZERO.")]
    turn = "market data point " * 60  # about 180 tokens
    for i in range(tokens // 190):
        messages.append(HumanMessage(f"q{i} {turn}") if i % 2 == 0 else AIMessage(f"a{i} {turn}"))
    if isinstance(messages[-1], HumanMessage):
        messages.append(AIMessage("ok"))
    messages.append(HumanMessage("And now?"))
    return messages


async def timed(fn: Callable[[], Awaitable[Any]], repeat: int = REPEAT) -> tuple[float, float]:
    await fn()  # warm
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await fn()
        samples.append(time.perf_counter() - started)
    return min(samples), statistics.median(samples)


def row(name: str, best: float, median: float, base: float, unit: str = "ms") -> None:
    scale = 1e3 if unit == "ms" else 1e6
    print(
        f"  {name:<34} {best * scale:9.2f} {unit} (median {median * scale:8.2f})"
        f"   x{best / base:5.2f} of raw"
    )


def plain_chain(base_url: str) -> Any:
    """The chain a LangChain user would write: route, trim, retry."""
    encoding = vocab_tokenizer("llama3")
    assert encoding is not None

    def count(messages: list[BaseMessage]) -> int:
        return sum(5 + len(encoding.encoding.encode_ordinary(m.text)) for m in messages)

    def pipeline(model: str) -> Any:
        llm = ChatOllama(model=model, base_url=base_url, num_ctx=NUM_CTX)
        trim = RunnableLambda(
            lambda msgs: trim_messages(
                msgs,
                max_tokens=NUM_CTX - 2048,
                token_counter=count,
                strategy="last",
                include_system=True,
                start_on="human",
            )
        )
        return trim | llm.with_retry(stop_after_attempt=3)

    return RunnableBranch(
        (lambda msgs: "```" in msgs[-1].text, pipeline("qwen2.5-coder:32b")),
        pipeline("llama3.1:8b"),
    )


class ReplyControl:
    """Sets the emulator process's fixed reply through its control file."""

    def __init__(self, path: str) -> None:
        self.path = path

    def set_reply(self, text: str | None) -> None:
        """Answer every request with ``text`` (None: the derived answers)."""
        with open(self.path, "w") as control:
            control.write(text or "")
        time.sleep(0.3)


@contextlib.contextmanager
def emulator_process() -> Iterator[tuple[str, ReplyControl]]:
    """The emulator in a process of its own, so it does not share our GIL."""
    control = tempfile.mktemp(prefix="zero-llm-reply-")
    script = (
        "import os, sys, threading, time\n"
        "from zero_llm.testing import OllamaEmulator\n"
        "emu = OllamaEmulator().start()\n"
        "print(emu.base_url, flush=True)\n"
        "path, seen = sys.argv[1], None\n"
        "while True:\n"
        "    time.sleep(0.1)\n"
        "    text = open(path).read() if os.path.exists(path) else None\n"
        "    if text != seen:\n"
        "        seen = text\n"
        "        emu.set_reply(text or None)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script, control], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        yield process.stdout.readline().strip(), ReplyControl(control)
    finally:
        process.terminate()
        process.wait(timeout=10)


async def main() -> None:
    cores = os.cpu_count()
    print(
        f"python {platform.python_version()}, {cores} cores; "
        + ", ".join(
            f"{p} {version(p)}"
            for p in (
                "zero-llm",
                "langchain-core",
                "langchain-ollama",
                "ollama",
                "httpx",
                "tiktoken",
                "sqlalchemy",
            )
        )
    )
    with emulator_process() as (url, emulator):
        home = tempfile.mkdtemp(prefix="zero-llm-bench-")
        # The way async code holds a manager: its connections live on this loop (no hop).
        async with ModelManager(ollama_host=url, home=home) as manager:
            raw = ollama.AsyncClient(host=url)
            bare = ChatOllama(model="llama3.1:8b", base_url=url, num_ctx=NUM_CTX)
            chain = plain_chain(url)
            chat = manager.chat_model(model="llama")
            await manager.load_model("llama")
            short = "What moved the market today?"

            for label, messages in (
                ("short prompt", [HumanMessage(short)]),
                ("10K-token history", history_of(10_000)),
            ):
                wire = [
                    {
                        "role": {"human": "user", "ai": "assistant"}.get(m.type, m.type),
                        "content": m.text,
                    }
                    for m in messages
                ]
                print(f"\n1. per call, not streamed, {label}")
                base, base_med = await timed(
                    lambda wire=wire: raw.chat(
                        model="llama3.1:8b",
                        messages=wire,
                        stream=False,
                        options={"num_ctx": NUM_CTX},
                    )
                )
                row("raw ollama.AsyncClient.chat", base, base_med, base)
                best, med = await timed(lambda messages=messages: bare.ainvoke(messages))
                row("bare ChatOllama.ainvoke", best, med, base)
                best, med = await timed(
                    lambda messages=messages: bare.ainvoke(messages, stream=False)
                )
                row("bare ChatOllama.ainvoke(stream=False)", best, med, base)
                best, med = await timed(lambda messages=messages: chain.ainvoke(messages))
                row("plain chain (branch, trim, retry)", best, med, base)
                if label == "short prompt":
                    best, med = await timed(lambda: manager.query_model("llama", short))
                    row("ModelManager.query_model", best, med, base)
                    # Never entered: its pool on the sync bridge's loop, a hop per call.
                    outside = ModelManager(ollama_host=url, home=home)
                    best, med = await timed(lambda: outside.query_model("llama", short))
                    row("  the same, no async with", best, med, base)
                    await outside.aclose()
                runnable = manager.as_runnable()
                best, med = await timed(
                    lambda messages=messages: runnable.ainvoke(
                        {"input": messages, "model": "llama"}
                    )
                )
                row("ModelManager.as_runnable().ainvoke", best, med, base)
                bare_best, _ = await timed(lambda messages=messages: bare.ainvoke(messages))
                zero_best, zero_med = await timed(lambda messages=messages: chat.ainvoke(messages))
                row("ZeroChatModel.ainvoke", zero_best, zero_med, base)
                print(f"  {'':<34} x{zero_best / bare_best:5.2f} of bare ChatOllama (goal <= 1.2)")

            print("\n1b. two tools bound, not streamed")
            bare_tools = bare.bind_tools([get_price, get_news])
            zero_tools = chat.bind_tools([get_price, get_news])
            question = [HumanMessage(short)]
            bare_best, bare_med = await timed(lambda: bare_tools.ainvoke(question))
            row("ChatOllama.bind_tools().ainvoke", bare_best, bare_med, bare_best)
            best, med = await timed(lambda: zero_tools.ainvoke(question))
            row("ZeroChatModel.bind_tools().ainvoke", best, med, bare_best)
            print(f"  {'':<34} x{best / bare_best:5.2f} of bare ChatOllama (goal <= 1.2)")

            print("\n1c. one create_agent step (no tool call), not streamed")
            from langchain.agents import create_agent

            bare_agent = create_agent(model=bare, tools=[get_price, get_news])
            zero_agent = create_agent(model=chat, tools=[get_price, get_news])
            step = {"messages": [HumanMessage(short)]}
            bare_best, bare_med = await timed(lambda: bare_agent.ainvoke(step))
            row("create_agent(ChatOllama)", bare_best, bare_med, bare_best)
            best, med = await timed(lambda: zero_agent.ainvoke(step))
            row("create_agent(ZeroChatModel)", best, med, bare_best)
            print(f"  {'':<34} x{best / bare_best:5.2f} of bare ChatOllama (goal <= 1.2)")

            chunks = 20_000
            emulator.set_reply(" tick" * chunks)  # the in-process twin cannot: see emulator_process
            print(f"\n2. streaming relay, per chunk over {chunks:,} chunks")

            async def raw_stream() -> None:
                async for _ in await raw.chat(
                    model="llama3.1:8b",
                    messages=[{"role": "user", "content": "go"}],
                    stream=True,
                    options={"num_ctx": NUM_CTX},
                ):
                    pass

            async def bare_stream() -> None:
                async for _ in bare.astream("go"):
                    pass

            async def chain_stream() -> None:
                async for _ in chain.astream([HumanMessage("go")]):
                    pass

            async def manager_stream() -> None:
                async for _ in await manager.query_model("llama", "go", stream=True):
                    pass

            base, base_med = await timed(raw_stream, 3)
            per = chunks
            print(f"  {'raw ollama.AsyncClient.chat':<34} {base / per * 1e6:9.1f} us/chunk")
            bare_best, _ = await timed(bare_stream, 3)
            for name, fn in (
                ("bare ChatOllama.astream", bare_stream),
                ("plain chain .astream", chain_stream),
                ("ModelManager.query_model(stream)", manager_stream),
            ):
                best, _ = await timed(fn, 3)
                print(
                    f"  {name:<34} {best / per * 1e6:9.1f} us/chunk   x{best / bare_best:5.2f}"
                    " of bare ChatOllama"
                )
            emulator.set_reply(None)

            print("\n3. 200 concurrent requests")
            for name, make in (
                (
                    "raw ollama.AsyncClient.chat",
                    lambda i: raw.chat(
                        model="llama3.1:8b",
                        messages=[{"role": "user", "content": f"q{i}"}],
                        options={"num_ctx": NUM_CTX},
                    ),
                ),
                ("bare ChatOllama.ainvoke", lambda i: bare.ainvoke(f"q{i}")),
                ("ModelManager.query_model", lambda i: manager.query_model("llama", f"q{i}")),
                ("ZeroChatModel.ainvoke", lambda i: chat.ainvoke(f"q{i}")),
            ):
                best = float("inf")
                for _ in range(3):
                    started = time.perf_counter()
                    await asyncio.gather(*(make(i) for i in range(200)))
                    best = min(best, time.perf_counter() - started)
                print(f"  {name:<34} {200 / best:9.0f} requests/s")

            print("\n4. router classification, per request")
            texts = [
                short,
                "def f(x):\n    return x  # fix this python bug",
                "Why did $NVDA drop and what is the risk?",
                "שלום, מה שלומך?",
                "word " * 2000,
            ]
            for text in texts:
                started = time.perf_counter()
                for _ in range(2000):
                    classify_text(text)
                cost = (time.perf_counter() - started) / 2000
                print(f"  {text[:30]!r:<34} {cost * 1e6:9.1f} us")

            print("\n6. building a ModelManager")
            samples = []
            for _ in range(20):
                started = time.perf_counter()
                ModelManager(ollama_host=url, home=home)
                samples.append(time.perf_counter() - started)
            print(
                f"  {'ModelManager()':<34} {min(samples) * 1e3:9.2f} ms "
                f"(median {statistics.median(samples) * 1e3:.2f})"
            )
            started = time.perf_counter()
            ChatOllama(model="llama3.1:8b", base_url=url)
            took = (time.perf_counter() - started) * 1e3
            print(f"  {'one ChatOllama() for scale':<34} {took:9.2f} ms")


if __name__ == "__main__":
    asyncio.run(main())
