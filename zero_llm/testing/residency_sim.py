"""ZERO's agents on one GPU, simulated in virtual time: the same workload, the same loads.

In: a ``Workload`` (agents, each a model, a number of requests, a start time and a seeded
think time between an answer and its next question), a way to serve it (``naive``: bare
calls at ``num_ctx`` 131072; ``sensible``: bare calls at the planned windows; ``zero-llm``:
the planned windows admitted by a ``ResidencyScheduler``) and the ``MemoryPlan``. Out: a
``SimOutcome`` — loads, evictions, partial offloads, wall time and latency per task — from
a run on a ``VirtualTimeLoop``, so no real time passes and a run always gives the same
figures (the benchmark's order rows and the tests' order-independence check rest on that).

Ollama is the emulator's own model of ``server/sched.go`` (``zero_llm.testing.scheduler``),
with the emulator's load times, generation speeds and answers; a request for zero-llm
goes through ``ResidencyScheduler.admit`` as the engine's does (owner: one id per request,
as for a chat model without a session) and ``/api/ps`` is read after each cold load.
Keep-alive expiry is not simulated (the emulator reads it on the real clock): runs are
shorter than the keep-alives used.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from zero_llm.errors import ZeroLLMError
from zero_llm.memory_plan import MemoryPlan, ModelFacts, ResidencyScheduler, plan_from_settings
from zero_llm.testing.catalog import EmulatedModel, answer_for, default_models, thinking_for
from zero_llm.testing.scheduler import Scheduler, SchedulerSettings
from zero_llm.testing.validation import parse_keep_alive
from zero_llm.testing.virtual_time import run_in_virtual_time

__all__ = [
    "AGENTS",
    "WAYS",
    "SimAgent",
    "SimOutcome",
    "Way",
    "Workload",
    "mixed_workload",
    "simulate",
    "zero_plan",
]

GiB = 2**30
Way = Literal["naive", "sensible", "zero-llm"]
WAYS: tuple[str, ...] = ("naive", "sensible", "zero-llm")
AGENTS: dict[str, tuple[str, str]] = {
    "trading": ("deepseek-r1:32b", "Compare NVDA and AMD after earnings: bull and bear case. "),
    "code": ("qwen2.5-coder:32b", "Write a Python function that parses this CSV of trades. "),
    "quick": ("llama3.1:8b", "What is the capital of Portugal? "),
}
"""ZERO's three agents: the model each asks and the gist of its questions."""
NAIVE_NUM_CTX = 131072


@dataclass(frozen=True)
class SimAgent:
    """One agent: asks ``requests`` questions one after another, thinking between them."""

    task: str
    """The agent's task (a key of ``AGENTS``)."""
    start_s: float = 0.0
    """Simulated seconds before its first think time."""
    requests: int = 20
    """Questions it asks."""
    seed: str = "7"
    """Seeds its think times (the same seed: the same times, whatever else runs)."""


@dataclass(frozen=True)
class Workload:
    """Agents working at once on one GPU."""

    agents: tuple[SimAgent, ...]
    think_s: tuple[float, float] = (0.0, 6.0)
    """Simulated seconds an agent thinks between an answer and its next question (uniform)."""
    gpu_memory: int = 24 * GiB
    """Bytes of GPU memory of the simulated Ollama."""


@dataclass
class SimOutcome:
    """What one way of serving a workload measured, in simulated seconds."""

    way: str
    loads: int = 0
    evictions: int = 0
    offloads: int = 0
    wall_s: float = 0.0
    latencies: dict[str, list[float]] = field(default_factory=dict)
    arrivals: list[str] = field(default_factory=list)
    """The model of each request, in arrival order."""

    def p(self, task: str, q: float) -> float:
        """The ``q`` quantile of a task's latency."""
        values = sorted(self.latencies.get(task, [0.0]))
        return values[min(len(values) - 1, int(q * len(values)))]


def mixed_workload(
    order: Sequence[str] = tuple(AGENTS),
    *,
    stagger_s: float = 3.0,
    seed: str = "7",
    requests: int = 20,
) -> Workload:
    """ZERO's agents starting in ``order``, ``stagger_s`` apart, each with its own seed."""
    return Workload(
        tuple(
            SimAgent(task, i * stagger_s, requests, f"{task}-{seed}")
            for i, task in enumerate(order)
        )
    )


def zero_plan(gpu_memory: int = 24 * GiB) -> MemoryPlan:
    """zero-llm's memory plan for the emulator's three models with default settings."""
    from zero_llm.settings import load_settings

    models = {m.name: m for m in default_models()}
    facts = {
        name: ModelFacts.from_model_info(name, models[name].model_info(False), models[name].size)
        for name, _ in AGENTS.values()
    }
    return plan_from_settings(load_settings(), facts, gpu_memory)


def simulate(
    workload: Workload,
    way: Way,
    plan: MemoryPlan,
    *,
    linger: float = 8.0,
    max_swap_wait: float = 60.0,
) -> SimOutcome:
    """Serve ``workload`` one way in virtual time (the same inputs: the same outcome)."""
    if way not in WAYS:
        raise ZeroLLMError(f"unknown way {way!r}: one of {', '.join(WAYS)}")
    unknown = sorted({a.task for a in workload.agents} - set(AGENTS))
    if unknown:
        raise ZeroLLMError(f"unknown agent task(s) {unknown}: one of {', '.join(AGENTS)}")
    return run_in_virtual_time(_Simulation(workload, way, plan, linger, max_swap_wait).run())


class _Simulation:
    """One run: the agents, the simulated Ollama and, for zero-llm, the scheduler."""

    def __init__(
        self, workload: Workload, way: Way, plan: MemoryPlan, linger: float, max_swap_wait: float
    ) -> None:
        self.workload, self.way, self.plan = workload, way, plan
        self.linger, self.max_swap_wait = linger, max_swap_wait
        self.models: dict[str, EmulatedModel] = {m.name: m for m in default_models()}
        self.outcome = SimOutcome(way)
        self.ollama = Scheduler(SchedulerSettings(gpu_memory=workload.gpu_memory, time_scale=1.0))
        self.scheduler: ResidencyScheduler | None = None
        self.observed: set[str] = set()
        self.calls = 0

    async def run(self) -> SimOutcome:
        loop = asyncio.get_running_loop()
        if self.way == "zero-llm":
            self.scheduler = ResidencyScheduler(
                self.plan, max_swap_wait=self.max_swap_wait, linger=self.linger, clock=loop.time
            )
        started = loop.time()
        await asyncio.gather(*(self._agent(agent) for agent in self.workload.agents))
        stats = self.ollama.snapshot()
        self.outcome.wall_s = loop.time() - started
        self.outcome.loads, self.outcome.evictions = stats.loads, stats.evictions
        self.outcome.offloads = stats.partial_offloads
        return self.outcome

    async def _agent(self, agent: SimAgent) -> None:
        loop = asyncio.get_running_loop()
        model, prompt = AGENTS[agent.task]
        rng = random.Random(agent.seed)
        history: list[dict[str, str]] = []
        await asyncio.sleep(agent.start_s)
        for i in range(agent.requests):
            await asyncio.sleep(rng.uniform(*self.workload.think_s))
            messages = [*history, {"role": "user", "content": f"{prompt}(step {i})"}]
            self.outcome.arrivals.append(model)
            asked = loop.time()
            answer = await self._ask(model, messages)
            self.outcome.latencies.setdefault(agent.task, []).append(loop.time() - asked)
            if agent.task == "trading":  # the trading agent keeps its conversation
                history = [*messages, {"role": "assistant", "content": answer}]

    async def _ask(self, model: str, messages: list[dict[str, str]]) -> str:
        self.calls += 1
        if self.scheduler is None:
            num_ctx = NAIVE_NUM_CTX if self.way == "naive" else self.plan.num_ctx_for(model)
            return await self._ollama(model, messages, num_ctx or NAIVE_NUM_CTX, None)
        async with self.scheduler.admit(model, owner=f"request-{self.calls}") as ticket:
            keep_alive = self.scheduler.keep_alive_for(model)
            answer = await self._ollama(
                model, messages, self.plan.num_ctx_for(model) or NAIVE_NUM_CTX, keep_alive
            )
            if ticket.cold_load is not None or model not in self.observed:
                self.observed.add(model)  # the engine reads /api/ps after a load
                self.scheduler.observe_resident(list(self.ollama.loaded))
        return answer

    async def _ollama(
        self, name: str, messages: list[dict[str, str]], num_ctx: int, keep_alive: str | int | None
    ) -> str:
        """One call to the simulated Ollama: wait, load if needed, read the prompt, answer."""
        model = self.models[name]
        num_ctx = min(num_ctx, model.context_length)  # Ollama caps it at the model's own
        lease = await self.ollama.acquire(model, num_ctx, parse_keep_alive(keep_alive))
        try:
            answer = answer_for(name, messages)
            thinking = thinking_for(messages) if "thinking" in model.capabilities else ""
            prompt = model.tokenizer.count("\n".join(m["content"] for m in messages))
            tokens = model.tokenizer.count(answer) + model.tokenizer.count(thinking)
            seconds = prompt / (model.tokens_per_second * 20) + tokens / model.tokens_per_second
            await asyncio.sleep(seconds * lease.runner.speed_factor)
        finally:
            lease.release()
        return answer
