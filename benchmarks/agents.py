"""Benchmark: agent loops — each tool policy on a 24 GiB GPU, and one agent step's overhead.

1. A 3-round trading agent (``create_agent`` with deepseek-r1:32b and three tools whose
   results name the next tool) for each ``tool_policy`` against an emulator with 24 GiB of
   GPU memory and scaled time: Ollama calls, model loads (swaps) and simulated wall time,
   per run and per tool round.
2. One agent step (a tool call on llama3.1:8b, then the answer) through ``mm.chat_model()``
   against the same step through a bare ``ChatOllama``: best of several runs on a fast
   emulator, and the ratio.

Benchmarks print; tests assert. Run: ``python -m benchmarks.agents``.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from typing import Any

from langchain.agents import create_agent
from langchain_core.tools import tool
from langchain_ollama import ChatOllama

from zero_llm import ModelManager
from zero_llm.testing import OllamaEmulator

GiB = 2**30
SCALE = 0.002
"""Real seconds per simulated second."""
QUESTION = "Should I buy NVDA after earnings? check the price with ticker=NVDA"


@tool
def get_price(ticker: str) -> str:
    """The last traded price of a stock ticker."""
    return f"{ticker} last traded at 123.45; see get_news for why"


@tool
def get_news(ticker: str) -> str:
    """Today's news about a ticker."""
    return f"{ticker}: record data-center sales; see get_options for positioning"


@tool
def get_options(ticker: str) -> str:
    """The options market's positioning on a ticker."""
    return f"{ticker}: call skew rising"


TOOLS = [get_price, get_news, get_options]


async def policy_run(policy: str) -> dict[str, Any]:
    with OllamaEmulator(gpu_memory=24 * GiB, time_scale=SCALE) as emulator:
        async with ModelManager(
            ollama_host=emulator.base_url,
            home=tempfile.mkdtemp(prefix="zero-llm-bench-"),
            memory={"gpu_memory": "24GiB"},
            models={"reasoning": {"tool_policy": policy}},
        ) as manager:
            agent = create_agent(model=manager.chat_model(task="trading"), tools=TOOLS)
            await manager.load_model("deepseek-r1:32b")
            loads_before = emulator.stats.loads
            emulator.clear_requests()
            started = time.perf_counter()
            result = await agent.ainvoke({"messages": [QUESTION]}, {"recursion_limit": 20})
            wall = (time.perf_counter() - started) / SCALE
            calls = [r.body["model"] for r in emulator.requests_to("/api/chat") if r.body]
            rounds = sum(1 for m in result["messages"] if m.type == "tool")
            final = result["messages"][-1].response_metadata.get("model_name")
            return {
                "policy": policy,
                "rounds": rounds,
                "calls": len(calls),
                "loads": emulator.stats.loads - loads_before,
                "wall_s": wall,
                "final": final,
                "models": sorted(set(calls)),
            }


async def step_overhead(repeat: int = 15) -> tuple[float, float]:
    with OllamaEmulator() as emulator:
        bare = create_agent(
            model=ChatOllama(model="llama3.1:8b", base_url=emulator.base_url, num_ctx=8192),
            tools=[get_price],
        )
        async with ModelManager(
            ollama_host=emulator.base_url, home=tempfile.mkdtemp(prefix="zero-llm-bench-")
        ) as manager:
            ours = create_agent(model=manager.chat_model(model="llama3.1:8b"), tools=[get_price])
            question = {"messages": ["what is the price of ticker=NVDA now"]}
            await bare.ainvoke(question)
            await ours.ainvoke(question)  # warm: profiles, encodings, clients
            timings: dict[str, list[float]] = {"bare": [], "ours": []}
            for _ in range(repeat):
                for name, agent in (("bare", bare), ("ours", ours)):
                    started = time.perf_counter()
                    await agent.ainvoke(question)
                    timings[name].append(time.perf_counter() - started)
            return min(timings["bare"]), min(timings["ours"])


async def main() -> None:
    print("3-round trading agent on deepseek-r1:32b, 24 GiB GPU (simulated seconds)")
    print(
        f"{'tool_policy':<20}{'rounds':>7}{'calls':>7}{'loads':>7}{'calls/round':>13}"
        f"{'loads/round':>13}{'wall s':>9}  answered by"
    )
    for policy in ("structured", "gather_then_answer", "tool_model"):
        row = await policy_run(policy)
        rounds = max(1, row["rounds"])
        print(
            f"{policy:<20}{row['rounds']:>7}{row['calls']:>7}{row['loads']:>7}"
            f"{row['calls'] / rounds:>13.2f}{row['loads'] / rounds:>13.2f}{row['wall_s']:>9.1f}"
            f"  {row['final']} (calls to {', '.join(row['models'])})"
        )
    bare, ours = await step_overhead()
    print(
        f"one agent step: bare ChatOllama {bare * 1000:.1f} ms, zero-llm {ours * 1000:.1f} ms, "
        f"ratio {ours / bare:.2f}x"
    )


if __name__ == "__main__":
    asyncio.run(main())
