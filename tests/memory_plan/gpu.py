"""A GPU that schedulers admit calls to, for the bound tests (real and virtual time).

Four models, three of them 32B (no two share a 24 GiB GPU), so that two waiters can be
held for a lingering third at once; ``Gpu`` records when each call arrived, was admitted
and held the GPU, on the running loop's clock (the real one, or a virtual-time loop's).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from tests.memory_plan.models import CODER, DEEPSEEK, LLAMA, GiB, qwen2_info
from zero_llm.memory_plan import (
    MemoryPlan,
    ModelDemand,
    ModelFacts,
    ResidencyScheduler,
    plan_memory,
)

QWQ = ModelFacts.from_model_info("qwq:32b", qwen2_info(32768), 19851336000)


def four_model_plan() -> MemoryPlan:
    """ZERO's three models and one more 32B on a 24 GiB GPU, the quick model first."""
    demands = [
        ModelDemand(DEEPSEEK, "reasoning"),
        ModelDemand(CODER, "code"),
        ModelDemand(QWQ, "thinking"),
        ModelDemand(LLAMA, "quick"),
    ]
    return plan_memory(demands, budget=24 * GiB, priority=LLAMA.name)


@dataclass
class Gpu:
    """Calls as the GPU sees them: when each ran, and when it was busy."""

    scheduler: ResidencyScheduler
    load_s: float
    """What a cold load costs (the GPU is busy meanwhile)."""
    busy: list[tuple[float, float]] = field(default_factory=list)
    waits: list[tuple[str, float, float]] = field(default_factory=list)
    """(model, arrived, admitted) per request."""

    async def call(self, model: str, seconds: float) -> None:
        """One request: wait for its turn, then hold the GPU (plus a load when cold)."""
        loop = asyncio.get_running_loop()
        arrived = loop.time()
        async with self.scheduler.admit(model) as ticket:
            admitted = loop.time()
            self.waits.append((model, arrived, admitted))
            await asyncio.sleep(seconds + (self.load_s if ticket.cold_load else 0.0))
            self.busy.append((admitted, loop.time()))

    def idle_within(self, start: float, end: float) -> float:
        """Seconds in [start, end] with no call on the GPU."""
        covered, cursor = 0.0, start
        for begin, finish in sorted(self.busy):
            begin, finish = max(begin, cursor), min(finish, end)
            if finish > begin:
                covered += finish - begin
                cursor = finish
        return max(end - start - covered, 0.0)
