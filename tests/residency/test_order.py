"""Residency in virtual time: the same workload gives the same loads, whoever starts first.

ZERO's three agents (trading on deepseek-r1:32b, code on qwen2.5-coder:32b, quick on
llama3.1:8b; no two of them share a 24 GiB GPU) run against the emulator's model of
Ollama's scheduler on a virtual-time loop (``zero_llm.testing.residency_sim``): each run is
exact and repeatable, so the order effect can be told apart from the wall clock's jitter.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.memory_plan.gpu import QWQ, Gpu, four_model_plan
from zero_llm.errors import ZeroLLMError
from zero_llm.memory_plan import ResidencyScheduler
from zero_llm.testing.residency_sim import AGENTS, mixed_workload, simulate, zero_plan
from zero_llm.testing.virtual_time import run_in_virtual_time

PLAN = zero_plan()
MODELS = [model for model, _ in AGENTS.values()]
DS, CODER, QUICK = MODELS
ORDERS = list(itertools.permutations(AGENTS))


def test_the_plan_lets_no_two_agents_models_share_the_gpu() -> None:
    # What makes the workload hard: every switch between agents is a load.
    assert PLAN.priority == QUICK
    assert not any(PLAN.can_coreside(pair) for pair in itertools.combinations(MODELS, 2))


def test_the_same_workload_always_gives_the_same_outcome() -> None:
    workload = mixed_workload(("code", "quick", "trading"), seed="3")
    first, again = simulate(workload, "zero-llm", PLAN), simulate(workload, "zero-llm", PLAN)
    assert first == again  # loads, evictions, wall time, every latency, the arrival order
    assert len(first.arrivals) == 60 and first.offloads == 0


def test_a_way_or_agent_it_does_not_know_is_refused_by_name() -> None:
    with pytest.raises(ZeroLLMError, match="unknown way 'fast'"):
        simulate(mixed_workload(), "fast", PLAN)  # type: ignore[arg-type]
    with pytest.raises(ZeroLLMError, match=r"unknown agent task\(s\) \['poetry'\]"):
        simulate(mixed_workload(("poetry", "quick")), "naive", PLAN)


@pytest.mark.timeout(60)
def test_gains_hold_whichever_agent_starts_first() -> None:
    # Every order of the three agents (3 s apart), six think-time seeds: 36 workloads.
    loads: dict[tuple[str, ...], list[int]] = {}
    gains: list[float] = []
    for seed, order in itertools.product(map(str, range(1, 7)), ORDERS):
        workload = mixed_workload(order, seed=seed)
        naive = simulate(workload, "naive", PLAN)
        zero = simulate(workload, "zero-llm", PLAN)
        assert naive.offloads > 0 and zero.offloads == 0  # 131072 does not fit: CPU offload
        loads.setdefault(order, []).append(zero.loads)
        gains.append(naive.loads / zero.loads)
    assert min(gains) >= 3.5, sorted(gains)[:5]
    by_first = {
        agent: statistics.mean(n for order, ns in loads.items() if order[0] == agent for n in ns)
        for agent in AGENTS
    }
    # Who starts first moves the mean number of loads by less than 10%.
    assert max(by_first.values()) <= 1.1 * min(by_first.values()), by_first
    # And a change of start order moves one workload's loads no more than a change of
    # seed (think times) does: the order is one more perturbation, not a lever.
    seeds = range(6)
    across_orders = statistics.mean(statistics.pstdev([loads[o][s] for o in ORDERS]) for s in seeds)
    across_seeds = statistics.mean(statistics.pstdev(loads[o]) for o in ORDERS)
    assert across_orders <= across_seeds + 0.25, (across_orders, across_seeds)


@pytest.mark.timeout(30)
def test_a_bound_reached_by_the_clock_is_not_waited_for_again() -> None:
    # head.arrived + max_swap_wait can be reached by the clock while the difference
    # now - arrived still rounds below max_swap_wait: the scheduler re-armed a wake-up of
    # zero seconds, forever in virtual time (before the fix this run never ended).
    outcome = simulate(mixed_workload(requests=12), "zero-llm", PLAN)
    assert outcome.loads < 36 and len(outcome.arrivals) == 36


FOUR = four_model_plan()
"""ZERO's models and one more 32B: two 32B waiters can be held at once for a third."""
LOAD_S = 12.0
"""A cold load's cost in the bound test (the GPU is busy meanwhile)."""


AGENT_LOOPS = st.lists(
    st.tuples(
        st.sampled_from([DS, CODER, QWQ.name, QUICK]),
        st.floats(min_value=0.0, max_value=30.0),  # when the agent starts
        st.integers(min_value=2, max_value=12),  # calls, one after another
        st.floats(min_value=0.0, max_value=6.0),  # think time before each
        st.floats(min_value=0.1, max_value=5.0),  # how long each call holds the GPU
    ),
    min_size=2,
    max_size=5,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(agents=AGENT_LOOPS, linger=st.sampled_from([0.0, 8.0, 20.0]))
def test_in_virtual_time_no_request_waits_past_the_bound_on_an_idle_gpu(
    agents: list[tuple[str, float, int, float, float]], linger: float
) -> None:
    bound = 60.0

    async def agent(gpu: Gpu, model: str, start: float, calls: int, think: float, s: float) -> None:
        await asyncio.sleep(start)
        for _ in range(calls):
            await asyncio.sleep(think)
            await gpu.call(model, s)

    async def run() -> Gpu:
        loop = asyncio.get_running_loop()
        scheduler = ResidencyScheduler(FOUR, max_swap_wait=bound, linger=linger, clock=loop.time)
        gpu = Gpu(scheduler, LOAD_S)
        await asyncio.gather(*(agent(gpu, *spec) for spec in agents))
        return gpu

    gpu = run_in_virtual_time(run())
    assert len(gpu.waits) == sum(spec[2] for spec in agents)
    for model, arrived, admitted in gpu.waits:
        if admitted - arrived <= bound:
            continue
        # Past the bound, only the requests already running (and their loads) may delay it:
        # exact in virtual time, no allowance for jitter.
        idle = gpu.idle_within(arrived + bound, admitted)
        assert idle <= 1e-6, f"{model} waited {admitted - arrived:.2f}s, GPU idle {idle:.2f}s"
