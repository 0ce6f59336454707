"""The residency scheduler, driven with pure asyncio: events decide when calls end."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field

import pytest

from tests.memory_plan.test_planner import plan
from zero_llm.memory_plan import KeepAlivePolicy, MemoryPlan, ResidencyScheduler, Ticket

DS = "deepseek-r1:32b"
CODER = "qwen2.5-coder:32b"
QUICK = "llama3.1:8b"


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Harness:
    """Requests as tasks whose calls to 'Ollama' last until the test lets them end."""

    scheduler: ResidencyScheduler
    plan: MemoryPlan
    clock: Clock
    started: list[Ticket] = field(default_factory=list)
    in_flight: dict[str, int] = field(default_factory=dict)
    gates: dict[int, asyncio.Event] = field(default_factory=dict)
    tasks: dict[int, asyncio.Task[Ticket]] = field(default_factory=dict)
    order: dict[int, int] = field(default_factory=dict)
    next_id: int = 0

    async def submit(self, model: str, fail: bool = False, owner: str | None = None) -> int:
        """Start a request task and let it reach the scheduler (so it arrives 'now')."""
        rid = self.next_id
        self.next_id += 1
        self.gates[rid] = asyncio.Event()
        self.tasks[rid] = asyncio.create_task(self._call(rid, model, fail, owner))
        await settle()
        return rid

    async def _call(self, rid: int, model: str, fail: bool, owner: str | None) -> Ticket:
        async with self.scheduler.admit(model, owner) as ticket:
            self.in_flight[model] = self.in_flight.get(model, 0) + 1
            busy = {m for m, n in self.in_flight.items() if n}
            assert self.plan.can_coreside(busy), f"evicting a busy model: {sorted(busy)}"
            self.order[rid] = len(self.started)
            self.started.append(ticket)
            try:
                await self.gates[rid].wait()
                if fail:
                    raise RuntimeError("Ollama failed")
            finally:
                self.in_flight[model] -= 1
        return ticket

    def running(self, rid: int) -> bool:
        return rid in self.order and not self.tasks[rid].done()

    async def finish(self, *rids: int) -> None:
        for rid in rids:
            self.gates[rid].set()
        await settle()


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


def harness(budget_gib: float | None, max_swap_wait: float = 30.0) -> Harness:
    the_plan = plan(budget_gib)
    clock = Clock()
    scheduler = ResidencyScheduler(the_plan, max_swap_wait=max_swap_wait, clock=clock)
    return Harness(scheduler, the_plan, clock)


async def test_resident_model_first_and_requests_batch_on_it() -> None:
    h = harness(24)
    h.scheduler.observe_resident([CODER])
    a = await h.submit(CODER)
    await settle()
    assert h.running(a) and h.started[0].cold_load is None
    b = await h.submit(DS)
    h.clock.now += 5
    c, d = await h.submit(CODER), await h.submit(CODER)
    await settle()
    assert h.running(c) and h.running(d) and not h.running(b)  # batched on the resident model
    assert h.scheduler.state().queued == {DS: 1}
    await h.finish(a, c)
    assert not h.running(b)  # d still runs: a busy model is not evicted
    h.clock.now += 2
    await h.finish(d)
    assert h.running(b)
    ticket = h.started[h.order[b]]
    assert ticket.cold_load == "cold load of deepseek-r1:32b (evicting qwen2.5-coder:32b)"
    assert ticket.evicting == (CODER,)
    assert ticket.queue_wait_s == pytest.approx(7.0)
    assert h.scheduler.state().resident == (DS,)
    await h.finish(b)
    assert h.scheduler.state().loading == ()


async def test_no_request_waits_beyond_the_bound_behind_another_models_batch() -> None:
    h = harness(24, max_swap_wait=30)
    h.scheduler.observe_resident([CODER])
    first = await h.submit(CODER)
    await settle()
    blocked = await h.submit(DS)
    h.clock.now += 29
    early = await h.submit(CODER)  # within the bound: joins the batch
    await settle()
    assert h.running(early)
    h.clock.now += 2  # the deepseek request is now overdue
    late = await h.submit(CODER)
    await settle()
    assert not h.running(late)  # held back: it arrived after an overdue request
    await h.finish(first, early)
    assert h.running(blocked) and not h.running(late)
    assert h.started[h.order[blocked]].queue_wait_s == pytest.approx(31.0)
    # now the coder request waits behind deepseek's batch, with the same bound
    h.clock.now += 10
    joins = await h.submit(DS)
    await settle()
    assert h.running(joins)
    h.clock.now += 25  # late has waited 35 s
    held = await h.submit(DS)
    await settle()
    assert not h.running(held)
    await h.finish(blocked, joins)
    assert h.running(late) and not h.running(held)
    assert h.started[h.order[late]].cold_load == (
        "cold load of qwen2.5-coder:32b (evicting deepseek-r1:32b)"
    )
    await h.finish(late)
    assert h.running(held)
    await h.finish(held)


async def test_never_two_loads_of_models_that_cannot_share_memory() -> None:
    h = harness(24)
    ds, coder, quick = await h.submit(DS), await h.submit(CODER), await h.submit(QUICK)
    await settle()
    assert h.running(ds) and not h.running(coder) and not h.running(quick)
    assert h.scheduler.state().loading == (DS,)
    await h.finish(ds)
    # the coder request is older than the quick one: FIFO between models that conflict
    assert h.running(coder) and not h.running(quick)
    await h.finish(coder)
    assert h.running(quick)
    await h.finish(quick)
    assert [t.cold_load is not None for t in h.started] == [True, True, True]


async def test_models_that_share_memory_load_side_by_side() -> None:
    h = harness(48)
    ds, quick, coder = await h.submit(DS), await h.submit(QUICK), await h.submit(CODER)
    await settle()
    assert h.running(ds) and h.running(quick) and not h.running(coder)
    assert h.started[h.order[quick]].cold_load == "cold load of llama3.1:8b"
    await h.finish(quick)
    assert not h.running(coder)  # deepseek is busy and cannot share with the coder
    await h.finish(ds)
    assert h.running(coder)
    # the quick model stays: only deepseek is evicted
    assert h.started[h.order[coder]].evicting == (DS,)
    assert h.scheduler.state().resident == (QUICK, CODER)
    await h.finish(coder)


async def test_a_cold_load_batches_its_whole_queue() -> None:
    h = harness(24)
    h.scheduler.observe_resident([CODER])
    busy = await h.submit(CODER)
    await settle()
    waiting = [await h.submit(DS) for _ in range(3)]
    await settle()
    await h.finish(busy)
    assert all(h.running(r) for r in waiting)
    texts = {h.started[h.order[r]].cold_load for r in waiting}
    assert texts == {"cold load of deepseek-r1:32b (evicting qwen2.5-coder:32b)"}
    joined = await h.submit(DS)  # arrives while the load is in flight
    await settle()
    assert h.started[h.order[joined]].cold_load == texts.pop()
    await h.finish(*waiting, joined)
    assert h.scheduler.state().in_flight == {}


async def test_cancelling_a_waiting_request_leaves_no_trace() -> None:
    h = harness(24)
    ds = await h.submit(DS)
    await settle()
    coder = await h.submit(CODER)
    other = await h.submit(CODER)
    await settle()
    h.tasks[coder].cancel()
    await settle()
    assert h.tasks[coder].cancelled()
    assert h.scheduler.state().queued == {CODER: 1}
    await h.finish(ds)
    assert h.running(other)
    await h.finish(other)
    assert h.scheduler.state().in_flight == {} and h.scheduler.state().queued == {}


async def test_cancelled_right_after_admission_gives_the_slot_back() -> None:
    h = harness(24)
    h.scheduler.observe_resident([DS])
    ds = await h.submit(DS)
    await settle()
    coder = await h.submit(CODER)
    await settle()
    h.gates[ds].set()
    await asyncio.sleep(0)  # ds's block ends, which admits the coder request ...
    h.tasks[coder].cancel()  # ... which is cancelled before it can run
    await settle()
    assert h.tasks[coder].cancelled() and coder not in h.order
    assert h.scheduler.state().in_flight == {}
    ds_again = await h.submit(DS)
    await settle()
    assert h.running(ds_again)  # nothing stuck; the coder load never happened
    assert h.started[h.order[ds_again]].cold_load is None
    await h.finish(ds_again)


async def test_an_exception_in_the_block_releases_the_slot() -> None:
    h = harness(24)
    failing = await h.submit(DS, fail=True)
    await settle()
    coder = await h.submit(CODER)
    await settle()
    await h.finish(failing)
    with pytest.raises(RuntimeError, match="Ollama failed"):
        await h.tasks[failing]
    assert h.running(coder)
    # the failed load taught nothing: deepseek is not believed resident
    assert DS not in h.scheduler.state().resident
    await h.finish(coder)
    assert h.scheduler.state().resident == (CODER,)


async def test_observed_residency_makes_requests_warm() -> None:
    h = harness(48)
    h.scheduler.observe_resident([QUICK, DS])
    quick, ds = await h.submit(QUICK), await h.submit(DS)
    await settle()
    assert [h.started[h.order[r]].cold_load for r in (quick, ds)] == [None, None]
    h.scheduler.observe_resident([QUICK])  # ps lags: a busy model stays resident
    assert h.scheduler.state().resident == (DS, QUICK)
    await h.finish(quick, ds)


async def test_keep_alive_policy() -> None:
    policy = KeepAlivePolicy(quick=-1, busy="30m", idle="1m")
    h = harness(24)
    h.scheduler = scheduler = ResidencyScheduler(h.plan, keep_alive=policy, clock=h.clock)
    assert scheduler.keep_alive_for(QUICK) == -1
    first = await h.submit(DS)
    assert scheduler.keep_alive_for(DS) == "1m"  # nothing else for it: free memory soon
    second = await h.submit(DS)
    assert scheduler.keep_alive_for(DS) == "30m"  # more requests for it: keep it
    await h.finish(first)
    assert scheduler.keep_alive_for(DS) == "1m"
    coder = await h.submit(CODER)  # queued behind deepseek
    assert scheduler.keep_alive_for(CODER) == "30m"
    await h.finish(second, coder)
    together = ResidencyScheduler(plan(80), keep_alive=policy)
    assert together.keep_alive_for(DS) == "30m"  # fits beside everything: no reason to drop it
    assert together.keep_alive_for("unknown:1b") == "30m"


def test_from_settings_reads_the_memory_group() -> None:
    from zero_llm.settings import load_settings

    memory = load_settings(memory={"max_swap_wait": 5, "idle_keep_alive": "10s"}).memory
    scheduler = ResidencyScheduler.from_settings(plan(24), memory)
    assert scheduler.max_swap_wait == 5
    assert scheduler.keep_alive == KeepAlivePolicy(-1, "30m", "10s")


@pytest.mark.parametrize("budget", [24, 48, 80])
@pytest.mark.parametrize("seed", range(6))
async def test_random_workloads_never_deadlock_and_keep_order(budget: int, seed: int) -> None:
    rng = random.Random(seed)
    h = harness(budget, max_swap_wait=20)
    submitted: dict[int, str] = {}
    for _ in range(150):
        h.clock.now += rng.choice([0, 0, 1, 5, 15])
        if rng.random() < 0.55:
            model = rng.choice([DS, CODER, QUICK, QUICK])
            submitted[await h.submit(model)] = model
        else:
            running = [r for r in submitted if h.running(r)]
            if running:
                await h.finish(rng.choice(running))
        if rng.random() < 0.05:
            waiting = [r for r in submitted if r not in h.order and not h.tasks[r].done()]
            if waiting:
                h.tasks[rng.choice(waiting)].cancel()
        await settle()
    while True:  # drain: everything still queued must get its turn
        running = [r for r in submitted if h.running(r)]
        if not running:
            break
        h.clock.now += 1
        await h.finish(*running)
    await settle()
    assert all(h.tasks[r].done() for r in submitted)
    finished = [h.tasks[r] for r in submitted if not h.tasks[r].cancelled()]
    assert [t.exception() for t in finished] == [None] * len(finished)  # no busy model evicted
    assert len(finished) > 60 and any(t.cold_load for t in h.started)
    assert h.scheduler.state().in_flight == {} and h.scheduler.state().queued == {}
    for model in (DS, CODER, QUICK):  # FIFO per model
        admitted = [r for r in submitted if submitted[r] == model and r in h.order]
        assert admitted == sorted(admitted, key=lambda r: h.order[r])


def lingering(max_swap_wait: float = 30.0) -> Harness:
    the_plan = plan(24)
    clock = Clock()
    scheduler = ResidencyScheduler(the_plan, max_swap_wait=max_swap_wait, clock=clock, linger=10.0)
    return Harness(scheduler, the_plan, clock)


async def two_loops(h: Harness, owner: str | None = None) -> tuple[int, int]:
    """Deepseek and coder both asked in loops; coder runs, deepseek's next call waits."""
    h.scheduler.observe_resident([DS])
    await h.finish(await h.submit(DS))  # deepseek answered at t0
    await h.finish(await h.submit(CODER, owner=owner))  # coder loads, answers
    h.clock.now += 1
    c = await h.submit(CODER, owner=owner)  # right after its answer: coder is in a loop
    h.clock.now += 1
    d = await h.submit(DS)  # 2 s after deepseek's answer: deepseek is in a loop too
    assert h.running(c) and not h.running(d)  # coder is busy: never evicted
    return c, d


async def test_linger_holds_a_model_that_just_answered_for_its_next_request() -> None:
    h = lingering()
    c, d = await two_loops(h)
    h.clock.now += 1
    await h.finish(c)
    assert not h.running(d)  # coder answered moments ago: its agent may ask again
    h.clock.now += 3
    e = await h.submit(CODER)
    assert h.running(e) and h.started[h.order[e]].cold_load is None  # no load back
    await h.finish(e)
    h.clock.now += 11  # past the linger after e's answer
    h.scheduler.observe_resident([CODER])  # any event re-checks (a timer does in real time)
    await settle()
    assert h.running(d)
    assert h.started[h.order[d]].cold_load == (
        "cold load of deepseek-r1:32b (evicting qwen2.5-coder:32b)"
    )
    await h.finish(d)


async def test_linger_never_holds_a_request_past_max_swap_wait() -> None:
    h = lingering(max_swap_wait=4.0)
    c, d = await two_loops(h)
    h.clock.now += 5  # d has waited past the bound while c ran
    await h.finish(c)
    assert h.running(d)
    await h.finish(d)


async def test_linger_holds_nothing_for_a_program_moving_on() -> None:
    h = lingering()
    h.scheduler.observe_resident([CODER])
    await h.finish(await h.submit(CODER))
    h.clock.now += 1
    a = await h.submit(CODER)  # a loop on coder...
    b = await h.submit(DS)  # ...then deepseek, asked for the first time in a while
    await h.finish(a)
    assert h.running(b)  # deepseek is not in a loop: nobody takes turns, no wait
    await h.finish(b)


async def test_ps_listing_a_model_being_evicted_does_not_make_it_resident() -> None:
    h = harness(24)
    h.scheduler.observe_resident([CODER])
    b = await h.submit(DS)  # loads deepseek, evicting coder
    assert h.running(b)
    h.scheduler.observe_resident([CODER])  # /api/ps read before Ollama evicted it
    assert h.scheduler.state().resident == (DS,)
    c = await h.submit(CODER)
    assert not h.running(c)  # never beside the busy deepseek-r1
    await h.finish(b)
    assert h.running(c)
    await h.finish(c)


async def test_linger_never_holds_the_quick_model() -> None:
    h = lingering()
    h.scheduler.observe_resident([CODER])
    await h.finish(await h.submit(CODER))
    a = await h.submit(CODER)
    q = await h.submit(QUICK)
    h.clock.now += 1
    await h.finish(a)
    assert h.running(q)  # the priority model is served now, not after coder's follow-ups
    await h.finish(q)


async def test_linger_does_not_hold_a_model_a_person_reads_answers_of() -> None:
    h = lingering()
    h.scheduler.observe_resident([CODER])
    await h.finish(await h.submit(CODER))
    h.clock.now += 40  # a person read the answer before asking again: no loop
    a = await h.submit(CODER)
    b = await h.submit(DS)
    h.clock.now += 1
    await h.finish(a)
    assert h.running(b)  # switched at once: nobody is likely to ask coder again now
    await h.finish(b)


async def test_linger_never_holds_a_conversation_for_its_own_follow_up() -> None:
    h = lingering()
    h.scheduler.observe_resident([DS])
    await h.finish(await h.submit(DS, owner="agent-1"))
    await h.finish(await h.submit(CODER, owner="agent-1"))
    h.clock.now += 1
    a = await h.submit(CODER, owner="agent-1")  # agent-1's loop on coder...
    await h.finish(a)
    b = await h.submit(DS, owner="agent-1")  # ...goes back to deepseek: it asks, it waits
    assert h.running(b)  # never held for a follow-up that only agent-1 itself could send
    await h.finish(b)
