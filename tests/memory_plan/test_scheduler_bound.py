"""The scheduler keeps every waiter's ``max_swap_wait``, on the real clock and a real loop.

Four models, three of them 32B (no two share a 24 GiB GPU), so that two can be held for
a lingering third at once: each held waiter needs its own wake-up.
"""

from __future__ import annotations

import asyncio
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.memory_plan.gpu import QWQ, Gpu, four_model_plan
from tests.memory_plan.models import CODER, DEEPSEEK, LLAMA
from zero_llm.memory_plan import ResidencyScheduler

DS, CO, QW, QUICK = DEEPSEEK.name, CODER.name, QWQ.name, LLAMA.name
LOAD_S = 0.05
"""What a cold load costs in these runs (the GPU is busy meanwhile)."""


def four_models(linger: float, max_swap_wait: float) -> ResidencyScheduler:
    """A scheduler for ZERO's three models and one more 32B, on a 24 GiB GPU."""
    plan = four_model_plan()
    assert not plan.can_coreside({DS, CO}) and not plan.can_coreside({DS, QW})
    return ResidencyScheduler(plan, max_swap_wait=max_swap_wait, linger=linger)


async def test_two_held_models_each_keep_their_own_bound() -> None:
    bound = 0.6
    scheduler = four_models(linger=1.0, max_swap_wait=bound)
    gpu = Gpu(scheduler, LOAD_S)
    # Each model answers once, so that each is "in a loop" when it is asked again.
    for model in (DS, QW, CO, CO):
        await gpu.call(model, 0.0)
    coder_loop_ends = time.monotonic() + 0.45
    held_ds = asyncio.create_task(gpu.call(DS, 0.0))  # held while coder keeps answering
    await asyncio.sleep(0)
    held_qwq: asyncio.Task[None] | None = None
    while time.monotonic() < coder_loop_ends:
        await gpu.call(CO, 0.05)  # an agent on coder, asking again right after each answer
        if held_qwq is None and time.monotonic() > coder_loop_ends - 0.1:
            held_qwq = asyncio.create_task(gpu.call(QW, 0.0))  # held too, from a later time
            await asyncio.sleep(0)
    await asyncio.wait_for(held_ds, 5)
    assert held_qwq is not None
    await asyncio.wait_for(held_qwq, 5)
    (_, arrived, admitted) = next(w for w in gpu.waits[3:] if w[0] == DS)
    # Before: the later deadline of qwq replaced deepseek's wake-up; it waited ~0.9 s.
    assert admitted - arrived < bound + 0.15, f"waited {admitted - arrived:.2f}s past {bound}s"


ARRIVALS = st.lists(
    st.tuples(
        st.sampled_from([DS, CO, QW, QUICK]),
        st.floats(min_value=0.0, max_value=0.25),  # gap since the previous arrival
        st.floats(min_value=0.0, max_value=0.08),  # how long the call holds the GPU
    ),
    min_size=3,
    max_size=14,
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arrivals=ARRIVALS, linger=st.sampled_from([0.0, 0.2, 0.5]))
def test_no_request_waits_past_the_bound_while_the_gpu_is_idle(
    arrivals: list[tuple[str, float, float]], linger: float
) -> None:
    bound = 0.3
    slack = 0.12  # the loop's and the machine's scheduling jitter

    async def run() -> Gpu:
        gpu = Gpu(four_models(linger=linger, max_swap_wait=bound), LOAD_S)
        calls = []
        for model, gap, seconds in arrivals:
            await asyncio.sleep(gap)
            calls.append(asyncio.create_task(gpu.call(model, seconds)))
        await asyncio.wait_for(asyncio.gather(*calls), 30)
        return gpu

    gpu = asyncio.run(run())
    assert len(gpu.waits) == len(arrivals)
    for model, arrived, admitted in gpu.waits:
        if admitted - arrived <= bound:
            continue
        idle = gpu.idle_within(arrived + bound, admitted)
        assert idle <= LOAD_S + slack, (
            f"{model} waited {admitted - arrived:.2f}s (bound {bound}s) with the GPU idle "
            f"{idle:.2f}s of it"
        )


AGENT_LOOPS = st.lists(
    st.tuples(
        st.sampled_from([DS, CO, QW, QUICK]),
        st.floats(min_value=0.0, max_value=0.3),  # when the agent starts
        st.integers(min_value=2, max_value=6),  # how many calls it makes, one after another
        st.floats(min_value=0.0, max_value=0.05),  # how long each call holds the GPU
    ),
    min_size=3,
    max_size=4,
)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(agents=AGENT_LOOPS)
def test_agents_in_loops_never_keep_a_waiter_past_its_bound_on_an_idle_gpu(
    agents: list[tuple[str, float, int, float]],
) -> None:
    bound = 0.3
    slack = 0.12

    async def agent(gpu: Gpu, model: str, start: float, calls: int, seconds: float) -> None:
        await asyncio.sleep(start)
        for _ in range(calls):  # asks again right after each answer: a loop
            await gpu.call(model, seconds)

    async def run() -> Gpu:
        gpu = Gpu(four_models(linger=1.0, max_swap_wait=bound), LOAD_S)
        await asyncio.wait_for(asyncio.gather(*(agent(gpu, *spec) for spec in agents)), 30)
        return gpu

    gpu = asyncio.run(run())
    for model, arrived, admitted in gpu.waits:
        if admitted - arrived <= bound:
            continue
        idle = gpu.idle_within(arrived + bound, admitted)
        assert idle <= LOAD_S + slack, (
            f"{model} waited {admitted - arrived:.2f}s (bound {bound}s) with the GPU idle "
            f"{idle:.2f}s of it"
        )
