"""Benchmark: three Ollama hosts, zero-llm placement vs round-robin placement.

Three emulators on loopback, each a 24 GiB GPU in scaled time (loads, evictions and
generation take ``time_scale`` real seconds per simulated second). The workload is ZERO's
shape tripled: 9 concurrent agents (3 trading -> deepseek-r1:32b, 3 code ->
qwen2.5-coder:32b, 3 quick -> llama3.1:8b), 20 requests each (180 in all), arrivals
interleaved by seeded random think times, one agent of each kind in a conversation
(``session_id``). The same workload and seed run twice on fresh emulators:

(a) zero-llm placement: one ``ModelManager`` with ``hosts=[...three URLs...]``;
(b) the same, with the pool's state cache lifetime (5 s real) scaled by ``time_scale`` like
    every simulated duration (``/api/ps`` read again much more often);
(c) round-robin: the same manager, but the n-th placed call goes to host n % 3 (its
    ``place`` replaced by a counter; everything else identical).

Prints model loads and evictions (summed over the emulators' counters), wall time, p50 and
p95 latency per task (real milliseconds; divided by ``time_scale`` it is simulated
seconds, our own overhead included), and the ratios zero-llm / round-robin. Not a test:
numbers, no verdicts.

    python -m benchmarks.hosts [--time-scale 0.01] [--seed 13]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from dataclasses import dataclass, field

from zero_llm import ModelManager, ZeroLLMError
from zero_llm.ollama.hosts import STATE_TTL, HostState
from zero_llm.testing import OllamaEmulator

GPU_MEMORY = 24 * 2**30
AGENTS = {"trading": 3, "code": 3, "quick": 3}
REQUESTS_PER_AGENT = 20
THINK_MEAN_S = 2.0
"""Mean simulated seconds an agent thinks between two requests (exponential)."""


@dataclass
class Result:
    name: str
    wall_s: float
    loads: int
    evictions: int
    latencies: dict[str, list[float]] = field(default_factory=dict)
    hosts_per_task: dict[str, dict[str, int]] = field(default_factory=dict)
    errors: int = 0


class RoundRobin:
    """Placement by turns: the n-th call goes to host n % len(hosts)."""

    def __init__(self, hosts: list[HostState]) -> None:
        self.hosts = hosts
        self.count = 0

    async def place(self, model: str, session_id: str | None = None) -> HostState:
        host = self.hosts[self.count % len(self.hosts)]
        self.count += 1
        return host


def schedule(seed: int, time_scale: float) -> dict[str, list[float]]:
    """Each agent's think times (real seconds) before each of its requests."""
    rng = random.Random(seed)
    plan: dict[str, list[float]] = {}
    for kind, count in AGENTS.items():
        for k in range(count):
            plan[f"{kind}-{k}"] = [
                rng.expovariate(1 / THINK_MEAN_S) * time_scale for _ in range(REQUESTS_PER_AGENT)
            ]
    return plan


async def run(name: str, plan: dict[str, list[float]], time_scale: float) -> Result:
    emulators = [
        OllamaEmulator(gpu_memory=GPU_MEMORY, time_scale=time_scale).start() for _ in range(3)
    ]
    try:
        with tempfile.TemporaryDirectory() as home:
            manager = ModelManager(
                ollama_host=emulators[0].base_url,
                hosts=[{"url": e.base_url} for e in emulators],
                home=home,
                usage_ledger=False,
                memory={  # the planner's windows; the scheduler's seconds scaled like time
                    "gpu_memory": GPU_MEMORY,
                    "linger": 8 * time_scale,
                    "max_swap_wait": 60 * time_scale,
                },
            )
            if name == "zero-llm, ttl scaled":
                manager.hosts.state_ttl = STATE_TTL * time_scale
            if name == "round-robin":
                manager.hosts.place = RoundRobin(manager.hosts.hosts).place  # type: ignore[method-assign]
            result = Result(name, 0.0, 0, 0, {kind: [] for kind in AGENTS})
            result.hosts_per_task = {kind: {} for kind in AGENTS}

            async def agent(agent_id: str, thinks: list[float]) -> None:
                kind = agent_id.split("-")[0]
                session = agent_id if agent_id.endswith("-0") else None
                for i, think in enumerate(thinks):
                    await asyncio.sleep(think)
                    started = time.perf_counter()
                    try:
                        answer = await manager.ask(
                            f"{agent_id} request {i}", task=kind, session_id=session
                        )
                    except ZeroLLMError:
                        result.errors += 1
                        continue
                    result.latencies[kind].append(time.perf_counter() - started)
                    per_host = result.hosts_per_task[kind]
                    host = answer.trace.host or "?"
                    per_host[host] = per_host.get(host, 0) + 1

            started = time.perf_counter()
            await asyncio.gather(*(agent(a, thinks) for a, thinks in plan.items()))
            result.wall_s = time.perf_counter() - started
            await manager.aclose()
        stats = [e.stats for e in emulators]
        result.loads = sum(s.loads for s in stats)
        result.evictions = sum(s.evictions for s in stats)
        return result
    finally:
        for emu in emulators:
            emu.stop()


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "n/a"


def report(results: list[Result], time_scale: float) -> None:
    names = [r.name for r in results]
    print(f"{'':22}" + "".join(f"{n:>22}" for n in names) + "  (ratio: vs round-robin)")

    def row(label: str, values: list[float], fmt: str) -> None:
        cells = [
            f"{format(v, fmt)} ({ratio(v, values[-1])})" if i < len(values) - 1 else format(v, fmt)
            for i, v in enumerate(values)
        ]
        print(f"{label:22}" + "".join(f"{c:>22}" for c in cells))

    row("loads", [r.loads for r in results], "d")
    row("evictions", [r.evictions for r in results], "d")
    row("errors", [r.errors for r in results], "d")
    row("wall time (s)", [r.wall_s for r in results], ".2f")
    row("  / time_scale (sim s)", [r.wall_s / time_scale for r in results], ".0f")
    for kind in AGENTS:
        for label, q in (("p50", 0.5), ("p95", 0.95)):
            row(f"{kind} {label} (ms)", [pct(r.latencies[kind], q) * 1000 for r in results], ".0f")
    for r in results:
        spread = "; ".join(
            f"{kind} {sorted(per_host.values(), reverse=True)}"
            for kind, per_host in r.hosts_per_task.items()
        )
        print(f"{r.name}: requests per host: {spread}")


async def warm_up() -> None:
    """One call per task on a throwaway emulator: the first run must not pay the process's
    one-time start-up (router, vocabularies) that the second one would not."""
    with OllamaEmulator() as emu, tempfile.TemporaryDirectory() as home:
        manager = ModelManager(ollama_host=emu.base_url, home=home, usage_ledger=False)
        for kind in AGENTS:
            await manager.ask("warm up", task=kind, session_id=f"warm-{kind}")
        await manager.aclose()


async def main(time_scale: float = 0.01, seed: int = 13) -> None:
    await warm_up()
    plan = schedule(seed, time_scale)
    total = sum(len(t) for t in plan.values())
    print(
        f"{total} requests from {len(plan)} agents on 3 emulated 24 GiB hosts, "
        f"time_scale={time_scale}, seed={seed}"
    )
    names = ("zero-llm", "zero-llm, ttl scaled", "round-robin")
    results = [await run(name, plan, time_scale) for name in names]
    report(results, time_scale)
    latencies = [x for r in results for xs in r.latencies.values() for x in xs]
    print(f"(median request over all runs: {statistics.median(latencies) * 1000:.1f} ms real)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-scale", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    asyncio.run(main(args.time_scale, args.seed))
