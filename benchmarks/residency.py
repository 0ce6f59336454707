"""Benchmark: one 24 GiB GPU, three models, three agents at once — loads, wall time, latency.

ZERO's shape: a trading agent (deepseek-r1:32b, with its conversation), a code agent
(qwen2.5-coder:32b) and a quick agent (llama3.1:8b) work at once, 20 requests each, each
waiting for its answer and thinking 0-6 s (seeded) before the next, so their requests
interleave. On 24 GiB no two of these models share the GPU: every switch is a load.

Deterministic part (the figures to judge; ``zero_llm.testing.residency_sim``): the workload
runs in virtual time against the emulator's model of Ollama's scheduler (its load times,
speeds, answers and CPU offload), so a run takes milliseconds and gives the same figures
every time. Four ways:

- naive: bare calls at ``num_ctx`` 131072, as the plain stack sends them;
- sensible num_ctx: bare calls at zero-llm's planned windows, no scheduling;
- zero-llm: the planned windows admitted by the ``ResidencyScheduler`` (default settings:
  ``linger`` 8 s, ``max_swap_wait`` 60 s), and the same with ``linger`` off.

Printed: loads, evictions, partial offloads, wall time, p50/p95 latency per task, the ratios
against naive, Belady's offline optimum over zero-llm's arrival order
(``zero_llm.memory_plan.min_loads``; a scheduler that reorders may go below it). Then the
gain by starting order: each agent first (the others ``STAGGER_S`` apart), and every order
of the three agents over ``SEEDS`` think-time seeds, at two staggers.

Wall-clock part (``--wall-clock``): the same comparison end to end, through ``ModelManager``
and bare ``ChatOllama`` over real sockets to an emulator in scaled time, one run of each, a
check that the real path behaves as the simulation says. At the default x0.02 it gives the
simulation's figures within a load (12 loads; 14 / 14 / 15 and 15 / 14 / 15 by starting
order in two runs, 14 / 14 / 15 simulated). At x0.002 a millisecond of
our own or the machine's time is half a simulated second (think times are 0-6 s, ``linger``
8 s), so an agent's next request can miss its model's ``linger`` for that alone: on a busy
machine the same runs gave 20 to 50 loads, whatever the order. Benchmarks print; tests
assert.

Run: ``python -m benchmarks.residency [--wall-clock [--time-scale 0.02]]`` (wall clock: ~3 min).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_ollama import ChatOllama

from zero_llm import ModelManager
from zero_llm.memory_plan import MemoryPlan, min_loads
from zero_llm.testing import OllamaEmulator
from zero_llm.testing.residency_sim import SimOutcome, mixed_workload, simulate, zero_plan

GiB = 2**30
SCALE = 0.02
"""Real seconds per simulated second of the wall-clock part."""
PER_AGENT = 20
AGENTS = {
    "trading": ("deepseek-r1:32b", "Compare NVDA and AMD after earnings: bull and bear case. "),
    "code": ("qwen2.5-coder:32b", "Write a Python function that parses this CSV of trades. "),
    "quick": ("llama3.1:8b", "What is the capital of Portugal? "),
}
THINK_S = (0.0, 6.0)
"""Simulated seconds an agent thinks between two requests (uniform)."""
STAGGER_S = 3.0
"""Simulated seconds between the starts of the agents, in the order-dependence rows."""
SEEDS = [str(n) for n in range(1, 11)]
"""Think-time seeds of the all-orders rows."""

Ask = Callable[[str, list[BaseMessage]], Awaitable[str]]


async def _agent(
    task: str, ask: Ask, outcome: SimOutcome, rng: random.Random, delay_s: float = 0.0
) -> None:
    model, prompt = AGENTS[task]
    history: list[BaseMessage] = []
    await asyncio.sleep(delay_s * SCALE)
    for i in range(PER_AGENT):
        await asyncio.sleep(rng.uniform(*THINK_S) * SCALE)
        question = HumanMessage(f"{prompt}(step {i})")
        outcome.arrivals.append(model)
        started = time.perf_counter()
        text = await ask(task, [*history, question])
        outcome.latencies.setdefault(task, []).append((time.perf_counter() - started) / SCALE)
        if task == "trading":  # the trading agent keeps its conversation
            history += [question, AIMessage(text)]


async def _run(
    name: str,
    serve: Callable[[str], AbstractAsyncContextManager[Ask]],
    first: str | None = None,
) -> SimOutcome:
    """Serve the workload one way; with ``first``, that agent starts, the rest staggered."""
    outcome = SimOutcome(name)
    order = [first, *(t for t in AGENTS if t != first)] if first else list(AGENTS)
    delays = {task: (i * STAGGER_S if first else 0.0) for i, task in enumerate(order)}
    with OllamaEmulator(gpu_memory=24 * GiB, time_scale=SCALE) as emulator:
        async with serve(emulator.base_url) as ask:  # its set-up is off the clock
            started = time.perf_counter()
            await asyncio.gather(
                *(
                    _agent(task, ask, outcome, random.Random(f"{task}-7"), delays[task])
                    for task in AGENTS
                )
            )
            outcome.wall_s = (time.perf_counter() - started) / SCALE
        stats = emulator.stats
    outcome.loads, outcome.evictions, outcome.offloads = (
        stats.loads,
        stats.evictions,
        stats.partial_offloads,
    )
    return outcome


def _bare(windows: dict[str, int]) -> Callable[[str], AbstractAsyncContextManager[Ask]]:
    @asynccontextmanager
    async def serve(base_url: str) -> AsyncIterator[Ask]:
        models = {
            task: ChatOllama(model=model, base_url=base_url, num_ctx=windows[model])
            for task, (model, _) in AGENTS.items()
        }

        async def ask(task: str, messages: list[BaseMessage]) -> str:
            return (await models[task].ainvoke(messages)).text

        yield ask

    return serve


async def _zero_llm(
    name: str = "zero-llm", first: str | None = None, **memory: float
) -> SimOutcome:
    @asynccontextmanager
    async def serve(base_url: str) -> AsyncIterator[Ask]:
        async with ModelManager(
            ollama_host=base_url,
            home=tempfile.mkdtemp(prefix="zero-llm-bench-"),
            usage_ledger=False,
            memory={
                "gpu_memory": "24GiB",
                "max_swap_wait": memory.get("max_swap_wait", 60) * SCALE,
                "linger": memory.get("linger", 8) * SCALE,
            },
        ) as manager:
            for spec in manager.catalog.models.values():
                await manager.profiles.resolve(spec)  # /api/show, vocabulary: no load

            async def ask(task: str, messages: list[BaseMessage]) -> str:
                return (await manager.chat_model(task=task).ainvoke(messages)).text

            yield ask

    return await _run(name, serve, first)


async def _planned_windows() -> tuple[dict[str, int], MemoryPlan]:
    with OllamaEmulator(gpu_memory=24 * GiB) as emulator:
        async with ModelManager(
            ollama_host=emulator.base_url,
            home=tempfile.mkdtemp(prefix="zero-llm-bench-"),
            memory={"gpu_memory": "24GiB"},
        ) as manager:
            plan = await manager.memory_plan()
    return {m.name: m.num_ctx for m in plan.models}, plan


def _table(rows: list[SimOutcome]) -> None:
    header = f"{'way':34} {'loads':>5} {'evict':>5} {'offl':>4} {'wall s':>8}"
    header += "".join(f" {t + ' p50':>11} {t + ' p95':>11}" for t in AGENTS)
    print(header)
    for o in rows:
        row = f"{o.way:34} {o.loads:5d} {o.evictions:5d} {o.offloads:4d} {o.wall_s:8.1f}"
        row += "".join(f" {o.p(t, 0.5):11.2f} {o.p(t, 0.95):11.2f}" for t in AGENTS)
        print(row)


def deterministic() -> None:
    """The virtual-time rows: the four ways, then the gain by starting order."""
    plan = zero_plan()
    workload = mixed_workload(tuple(AGENTS), stagger_s=0.0, seed="7")  # all start at once
    naive, sensible, zero, eager = (
        simulate(workload, "naive", plan),
        simulate(workload, "sensible", plan),
        simulate(workload, "zero-llm", plan),
        simulate(workload, "zero-llm", plan, linger=0),
    )
    naive.way, sensible.way = "naive (num_ctx 131072)", "sensible num_ctx, no scheduling"
    eager.way = "zero-llm, linger off"
    print(f"virtual time: {len(AGENTS)} agents x {PER_AGENT} requests, 24 GiB GPU (same every run)")
    print(f"planned num_ctx: { {m.name: m.num_ctx for m in plan.models} }")
    _table([naive, sensible, zero, eager])
    belady = min_loads(zero.arrivals, plan.can_coreside)
    print(
        f"zero-llm vs naive: {naive.loads / zero.loads:.2f}x fewer loads, "
        f"{naive.wall_s / zero.wall_s:.2f}x less wall time; "
        f"quick p95 {zero.p('quick', 0.95):.1f} s "
        f"(planned windows, no scheduling: {sensible.p('quick', 0.95):.1f} s; naive "
        f"{naive.p('quick', 0.95):.1f} s); Belady over zero-llm's arrival order: {belady} loads "
        f"(loads / Belady {zero.loads / belady:.2f}); linger off: "
        f"{naive.loads / eager.loads:.2f}x fewer loads"
    )
    print(f"\nby starting order, seed 7 (the others {STAGGER_S:g} s apart, in the order above):")
    print(f"{'first agent':12} {'naive loads':>11} {'zero loads':>10} {'fewer':>6} {'wall':>6}")
    for first in AGENTS:
        order = (first, *(t for t in AGENTS if t != first))
        work = mixed_workload(order, stagger_s=STAGGER_S, seed="7")
        n, z = simulate(work, "naive", plan), simulate(work, "zero-llm", plan)
        print(
            f"{first:12} {n.loads:11d} {z.loads:10d} {n.loads / z.loads:5.2f}x "
            f"{n.wall_s / z.wall_s:5.2f}x"
        )
    orders = list(itertools.permutations(AGENTS))
    for stagger in (STAGGER_S, 10.0):
        gains: dict[str, list[float]] = {t: [] for t in AGENTS}
        loads: dict[str, list[int]] = {t: [] for t in AGENTS}
        each: dict[tuple[str, tuple[str, ...]], int] = {}
        for seed, order in itertools.product(SEEDS, orders):
            work = mixed_workload(order, stagger_s=stagger, seed=seed)
            n, z = simulate(work, "naive", plan), simulate(work, "zero-llm", plan)
            gains[order[0]].append(n.loads / z.loads)
            loads[order[0]].append(z.loads)
            each[seed, order] = z.loads
        across_orders = statistics.mean(
            statistics.pstdev([each[s, o] for o in orders]) for s in SEEDS
        )
        across_seeds = statistics.mean(
            statistics.pstdev([each[s, o] for s in SEEDS]) for o in orders
        )
        print(
            f"\nevery order x {len(SEEDS)} seeds, {stagger:g} s apart "
            f"({len(orders) * len(SEEDS)} workloads; by the agent that starts first):"
        )
        print(
            f"{'first agent':12} {'zero loads mean':>15} {'min-max':>8} "
            f"{'fewer mean':>10} {'min':>6}"
        )
        for first in AGENTS:
            print(
                f"{first:12} {statistics.mean(loads[first]):15.2f} "
                f"{min(loads[first]):>4d}-{max(loads[first]):<3d} "
                f"{statistics.mean(gains[first]):9.2f}x {min(gains[first]):5.2f}x"
            )
        print(
            f"zero loads, sd across the {len(orders)} orders of one seed: {across_orders:.2f}; "
            f"across the {len(SEEDS)} seeds of one order: {across_seeds:.2f}"
        )


async def wall_clock(scale: float = SCALE) -> None:
    """The end-to-end rows: real ModelManager and ChatOllama, emulator in scaled time."""
    global SCALE
    SCALE = scale
    windows, _ = await _planned_windows()
    naive = await _run("naive (num_ctx 131072)", _bare(dict.fromkeys(windows, 131072)))
    zero = await _zero_llm()
    print(f"\nwall clock, end to end, one run, time x{SCALE}")
    _table([naive, zero])
    print(f"zero-llm vs naive: {naive.loads / max(zero.loads, 1):.2f}x fewer loads")
    print(f"by starting order (the others {STAGGER_S:g} s apart):")
    print(f"{'first agent':12} {'naive loads':>11} {'zero loads':>10} {'fewer':>6} {'wall':>6}")
    for first in AGENTS:
        naive_first = await _run("naive", _bare(dict.fromkeys(windows, 131072)), first)
        zero_first = await _zero_llm(first=first)
        print(
            f"{first:12} {naive_first.loads:11d} {zero_first.loads:10d} "
            f"{naive_first.loads / max(zero_first.loads, 1):5.2f}x "
            f"{naive_first.wall_s / zero_first.wall_s:5.2f}x"
        )


async def main(wall: bool = False, scale: float = SCALE) -> None:
    """Print the deterministic rows; with ``wall``, the end-to-end run too (at ``scale``)."""
    await asyncio.to_thread(deterministic)  # its own virtual-time loops, off this one
    if wall:
        await wall_clock(scale)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--wall-clock", action="store_true", help="also run end to end")
    parser.add_argument(
        "--time-scale", type=float, default=SCALE, help="real seconds per simulated second"
    )
    args = parser.parse_args()
    asyncio.run(main(args.wall_clock, args.time_scale))
