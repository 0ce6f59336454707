"""Residency-aware admission of requests to one Ollama host: batch by model, never thrash.

In: a ``MemoryPlan`` (which models fit in memory together), what ``/api/ps`` shows
(``observe_resident``), and each request's model as the call runner calls
``async with scheduler.admit(model) as ticket:`` around one call to Ollama. Out: the order
in which requests go to Ollama, a ``Ticket`` per request (``queue_wait_s`` and
``cold_load`` — "cold load of X (evicting Y)" — for the usage record) and the
``keep_alive`` each request should carry (``keep_alive_for``). Pure asyncio: no HTTP.

Rules, checked every time something changes (a request arrives, ends or is cancelled, or
``/api/ps`` is observed):

- A request for a resident (or loading) model starts at once: it costs no load, so
  requests batch on the model that is already in memory.
- A request for a model that is not resident starts only if it fits in memory beside every
  model that has requests in flight (as Ollama, we never evict a busy model) — so two
  models that cannot share the GPU never load at the same time. All queued requests for
  that model start with it (one load serves the batch). Among several such models, one
  that evicts nothing goes first, then the one waiting longest.
- Bounded wait: once a queued request has waited ``max_swap_wait`` seconds, no request
  that arrived after it and is for a model it cannot share memory with is started. The
  batch in flight drains and its load comes next. A request therefore waits at most
  ``max_swap_wait`` plus the time the requests already running when that bound passed
  take to finish (Ollama cannot stop them either).
- Anticipation (``linger`` seconds): when two models' requests both come in loops (each
  arriving within ``linger`` of the answer before: agents taking turns), a load that would
  evict a model that answered less than ``linger`` ago waits for that model's follow-up,
  within the same ``max_swap_wait`` bound. A request for the priority (quick) model is never
  held, and a conversation (or call) that switches models is never held for its own
  follow-up.
- Queues are FIFO per model. A request cancelled while it waits leaves its queue; one
  cancelled just after it was admitted, or whose block raises, gives its slot back.

Models not in the plan are assumed to fit beside anything (their size is unknown).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from zero_llm.memory_plan.planner import MemoryPlan

__all__ = ["KeepAlivePolicy", "ResidencyScheduler", "SchedulerState", "Ticket"]

WAKE_SLACK_S = 0.001
"""A wake-up due within this many seconds counts as due (timers fire a hair early)."""


@dataclass(frozen=True)
class KeepAlivePolicy:
    """``keep_alive`` values per kind of model (Ollama's syntax: ``"30m"``, seconds, -1)."""

    quick: str | int = -1
    """The priority (quick) model: kept loaded."""
    busy: str | int = "30m"
    """A large model while more requests for it are queued or in flight."""
    idle: str | int = "2m"
    """A large model with nothing else queued, so its memory frees soon."""


@dataclass(frozen=True)
class Ticket:
    """What one admitted request learns about its admission (for the usage record)."""

    model: str
    """The model the request is for."""
    queue_wait_s: float
    """Seconds it waited in the scheduler before being sent."""
    cold_load: str | None = None
    """"cold load of X (evicting Y)" when the model was not resident; None otherwise."""
    evicting: tuple[str, ...] = ()
    """Models the load is expected to push out of memory."""
    loader: bool = field(default=False, repr=False)
    """True for the request that started the load (internal bookkeeping)."""


@dataclass(frozen=True)
class SchedulerState:
    """A snapshot for ``zero-llm ps`` and logs."""

    resident: tuple[str, ...]
    """Models believed loaded (from ``/api/ps`` and our own loads)."""
    loading: tuple[str, ...]
    """Models whose load is in flight."""
    in_flight: dict[str, int]
    """Requests sent to Ollama and not finished, per model."""
    queued: dict[str, int]
    """Requests waiting here, per model."""


@dataclass(eq=False)
class _Waiter:
    model: str
    arrived: float
    seq: int
    future: asyncio.Future[Ticket]
    owner: str | None = None

    def before(self, other: _Waiter) -> bool:
        """Whether this waiter arrived before ``other`` (ties broken by arrival order)."""
        return (self.arrived, self.seq) < (other.arrived, other.seq)


class ResidencyScheduler:
    """Admits requests to one Ollama host in an order that keeps loads few (see module doc).

    ``clock`` is where it reads the time (seconds); its wake-ups are the running loop's
    timers, so it must run at the loop's pace: ``time.monotonic`` on a real loop (the
    default), ``loop.time`` on a ``zero_llm.testing.virtual_time`` loop, where a workload
    runs in simulated time and gives the same admissions every run.
    """

    def __init__(
        self,
        plan: MemoryPlan,
        *,
        max_swap_wait: float = 30.0,
        keep_alive: KeepAlivePolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        linger: float = 0.0,
    ) -> None:
        self.plan = plan
        self.max_swap_wait = max_swap_wait
        self.linger = linger
        self._last_done: dict[str, float] = {}
        self._mutex = threading.RLock()  # one manager may be driven from several loops
        self._chained: set[str] = set()
        self._last_owner: dict[str, str] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._timer_due: float | None = None
        self._wake_heap: list[float] = []
        self._wakes: set[float] = set()
        self.keep_alive = keep_alive or KeepAlivePolicy()
        self._clock = clock
        self._resident: set[str] = set()
        self._loading: set[str] = set()
        self._in_flight: dict[str, int] = {}
        self._queues: dict[str, deque[_Waiter]] = {}
        self._load_text: dict[str, str] = {}
        self._arrivals = itertools.count()

    @classmethod
    def from_settings(cls, plan: MemoryPlan, memory: Any) -> ResidencyScheduler:
        """Build one from ``MemorySettings`` (``max_swap_wait`` and the keep-alive values)."""
        return cls(
            plan,
            max_swap_wait=memory.max_swap_wait,
            linger=memory.linger,
            keep_alive=KeepAlivePolicy(
                memory.quick_keep_alive, memory.busy_keep_alive, memory.idle_keep_alive
            ),
        )

    # -- what the call runner calls ----------------------------------------------------------

    @asynccontextmanager
    async def admit(self, model: str, owner: str | None = None) -> AsyncIterator[Ticket]:
        """Wait for this model's turn; hold the slot while the block runs; then release it.

        ``owner`` names the conversation asking (a session id), when known: a model is
        never held for the follow-up of the very conversation that now asks another model.
        """
        ticket = await self._acquire(model, owner)
        outcome = "failed"
        try:
            yield ticket
            outcome = "done"
        finally:
            with self._mutex:
                if owner is not None:
                    self._last_owner[model] = owner
                self._release(ticket, outcome)

    def observe_resident(self, names: Iterable[str]) -> None:
        """Take what ``/api/ps`` shows as resident (models in flight stay resident)."""
        with self._mutex:
            busy = {m for m, n in self._in_flight.items() if n > 0}
            ours = busy | self._loading
            # /api/ps may still list a model that a load we started is about to evict: a
            # model that cannot share memory with one in flight or loading is on its way out.
            seen = {n for n in names if not any(self._conflict(n, m) for m in ours)}
            self._resident = seen | ours
            self._dispatch()

    def keep_alive_for(self, model: str) -> str | int:
        """The ``keep_alive`` a request for ``model`` should carry (call it inside ``admit``)."""
        if model == self.plan.priority:
            return self.keep_alive.quick
        others = [m.name for m in self.plan.models if m.name != model]
        if self.plan.get(model) is None or all(
            self.plan.can_coreside({model, other}) for other in others
        ):
            return self.keep_alive.busy
        waiting = len(self._queues.get(model, ())) + max(self._in_flight.get(model, 0) - 1, 0)
        return self.keep_alive.busy if waiting else self.keep_alive.idle

    def state(self) -> SchedulerState:
        """A snapshot of residency, loads, requests in flight and queues."""
        return SchedulerState(
            resident=tuple(sorted(self._resident)),
            loading=tuple(sorted(self._loading)),
            in_flight={m: n for m, n in sorted(self._in_flight.items()) if n},
            queued={m: len(q) for m, q in sorted(self._queues.items()) if q},
        )

    # -- admission ----------------------------------------------------------------------------

    async def _acquire(self, model: str, owner: str | None = None) -> Ticket:
        """Queue a waiter and wait for ``_dispatch`` to grant it."""
        future: asyncio.Future[Ticket] = asyncio.get_running_loop().create_future()
        with self._mutex:
            waiter = _Waiter(model, self._clock(), next(self._arrivals), future, owner)
            if waiter.arrived - self._last_done.get(model, float("-inf")) <= self.linger:
                self._chained.add(model)  # asked again right after an answer: an agent's loop
            else:
                self._chained.discard(model)
            self._queues.setdefault(model, deque()).append(waiter)
            self._dispatch()
        try:
            return await waiter.future
        except asyncio.CancelledError:
            with self._mutex:
                if waiter.future.done() and not waiter.future.cancelled():
                    self._release(waiter.future.result(), "unused")
                else:
                    queue = self._queues.get(model)
                    if queue is not None and waiter in queue:
                        queue.remove(waiter)
                    self._dispatch()
            raise

    def _busy(self) -> set[str]:
        """Models with requests in flight."""
        return {m for m, n in self._in_flight.items() if n > 0}

    def _conflict(self, a: str, b: str) -> bool:
        """Whether two models cannot be in memory together."""
        return a != b and not self.plan.can_coreside({a, b})

    def _held_back(self, waiter: _Waiter, now: float) -> bool:
        """Whether an older, overdue waiter of a conflicting model must go before this one."""
        for model, queue in self._queues.items():
            if not queue or not self._conflict(model, waiter.model):
                continue
            oldest = queue[0]
            if oldest.before(waiter) and now + WAKE_SLACK_S >= oldest.arrived + self.max_swap_wait:
                return True
        return False

    def _grant(self, waiter: _Waiter, ticket: Ticket) -> None:
        """Hand a ticket to a waiter and count it in flight."""
        self._in_flight[waiter.model] = self._in_flight.get(waiter.model, 0) + 1
        loop = waiter.future.get_loop()
        try:
            here = asyncio.get_running_loop()
        except RuntimeError:
            here = None
        if loop is here:
            waiter.future.set_result(ticket)
        else:  # the waiter lives on another thread's loop
            loop.call_soon_threadsafe(self._deliver, waiter.future, ticket)

    def _deliver(self, future: asyncio.Future[Ticket], ticket: Ticket) -> None:
        """Hand a ticket over on the waiter's own loop (or give it back if it was cancelled)."""
        if future.cancelled():
            self._release(ticket, "unused")
        elif not future.done():
            future.set_result(ticket)

    def _start_warm(self, model: str, now: float) -> bool:
        """Start the waiters of a resident model that nothing overdue holds back."""
        queue = self._queues[model]
        started = False
        for waiter in list(queue):
            if waiter.future.done() or self._held_back(waiter, now):
                continue
            queue.remove(waiter)
            load = self._load_text.get(model) if model in self._loading else None
            self._grant(waiter, Ticket(model, max(now - waiter.arrived, 0.0), load))
            started = True
        return started

    def _eviction(self, model: str) -> tuple[str, ...]:
        """The resident models a load of ``model`` is expected to evict."""
        keep = self._busy() | {model}
        best: frozenset[str] | set[str] | None = None
        for group in self.plan.resident_sets:
            if keep - group - self._unplanned(keep):
                continue
            kept = (group & self._resident) | keep
            better = (
                best is None
                or len(kept) > len(best)
                or (len(kept) == len(best) and self.plan.priority in kept - best)
            )
            if better:
                best = kept
        if best is None:
            return ()
        planned_resident = {m for m in self._resident if self.plan.get(m) is not None}
        return tuple(sorted(planned_resident - best))

    def _unplanned(self, names: set[str]) -> set[str]:
        """The names the plan does not know."""
        return {n for n in names if self.plan.get(n) is None}

    def _start_cold(self, now: float) -> bool:
        """Start the load of one non-resident model, with its whole queue."""
        busy = self._busy()
        candidates: list[tuple[bool, float, int, str]] = []
        for model, queue in self._queues.items():
            if not queue or model in self._resident:
                continue
            if not self.plan.can_coreside(busy | {model}):
                continue
            if any(self._conflict(model, loading) for loading in self._loading):
                continue
            if self._held_back(queue[0], now):
                continue
            head = queue[0]
            if self._lingering(model, head, now):
                continue
            candidates.append((bool(self._eviction(model)), head.arrived, head.seq, model))
        if not candidates:
            return False
        model = min(candidates)[-1]
        evicting = self._eviction(model)
        text = f"cold load of {model}" + (f" (evicting {', '.join(evicting)})" if evicting else "")
        self._resident = (self._resident - set(evicting)) | {model}
        self._loading.add(model)
        self._load_text[model] = text
        queue = self._queues[model]
        first = True
        for waiter in list(queue):
            if waiter.future.done() or (not first and self._held_back(waiter, now)):
                continue
            queue.remove(waiter)
            ticket = Ticket(model, max(now - waiter.arrived, 0.0), text, evicting, loader=first)
            self._grant(waiter, ticket)
            first = False
        return True

    def _lingering(self, model: str, head: _Waiter, now: float) -> bool:
        """Whether a load of ``model`` waits: a model it would evict answered moments ago.

        An agent in a loop asks again right after each answer; evicting its model now would
        cost a load back. A model's requests are "in a loop" when each comes within
        ``linger`` of the answer before (an agent, not a person reading the answer). Only
        when both models are in loops (two agents taking turns on one GPU) is the load
        held: a program that moves on from one model to another is never kept waiting.
        Holding lasts ``linger`` seconds after that answer, and never once ``head`` has
        waited ``max_swap_wait``. A timer of its own re-checks when it ends.
        """
        bound = head.arrived + self.max_swap_wait
        if self.linger <= 0 or now + WAKE_SLACK_S >= bound:
            return False
        if model == self.plan.priority:
            return False  # the quick model's requests are never held for a batch
        if model not in self._chained:
            return False  # not an agent's loop: a program moving on, or a person
        recent = [
            self._last_done[m] + self.linger
            for m in self._resident
            if m in self._chained
            and (head.owner is None or self._last_owner.get(m) != head.owner)
            and self._conflict(m, model)
            and now + WAKE_SLACK_S < self._last_done.get(m, -1e18) + self.linger
        ]
        if not recent:
            return False
        # Compared as the timer is armed (an instant, not a difference of two): a bound
        # reached by the clock is reached, with no rounding left to wake for again and again.
        until = min(max(recent), bound)
        self._wake_at(until - now)
        return True

    def _wake_at(self, delay: float) -> None:
        """Dispatch again after ``delay`` seconds, keeping every other wake-up too.

        Each held waiter has its own deadline; one timer replaced by the next would let a
        later deadline push an earlier one back, and that waiter would wait past its
        bound with the GPU idle. So the deadlines go on a heap and one loop timer is
        armed for the earliest; when it fires, the next is armed.
        """
        due = self._clock() + max(delay, 0.0)
        if due in self._wakes:
            return
        heapq.heappush(self._wake_heap, due)
        self._wakes.add(due)
        self._arm()

    def _arm(self) -> None:
        """Arm the loop timer for the earliest pending wake-up (if not armed for it already)."""
        if not self._wake_heap:
            return
        first = self._wake_heap[0]
        if self._timer is not None and self._timer_due is not None and self._timer_due <= first:
            return
        if self._timer is not None:
            self._timer.cancel()
        loop = asyncio.get_running_loop()
        self._timer_due = first
        self._timer = loop.call_later(max(first - self._clock(), 0.0), self._on_timer)

    def _on_timer(self) -> None:
        """The earliest wake-up is due: drop what is due, dispatch, arm for the next."""
        with self._mutex:
            self._timer, self._timer_due = None, None
            now = self._clock()
            while self._wake_heap and self._wake_heap[0] <= now + WAKE_SLACK_S:
                self._wakes.discard(heapq.heappop(self._wake_heap))
            self._dispatch_locked()
            self._arm()

    def _dispatch(self) -> None:
        """Start every request the rules allow now."""
        with self._mutex:
            self._dispatch_locked()

    def _dispatch_locked(self) -> None:
        now = self._clock()
        for model, queue in self._queues.items():
            if any(w.future.done() for w in queue):  # cancelled, not yet out of the queue
                self._queues[model] = deque(w for w in queue if not w.future.done())
        progress = True
        while progress:
            progress = False
            for model in list(self._queues):
                if self._queues[model] and model in self._resident:
                    progress |= self._start_warm(model, now)
            progress |= self._start_cold(now)

    def _release(self, ticket: Ticket, outcome: str) -> None:
        """Give a slot back; learn from how the request ended (done, failed, unused)."""
        with self._mutex:
            self._release_locked(ticket, outcome)

    def _release_locked(self, ticket: Ticket, outcome: str) -> None:
        model = ticket.model
        left = self._in_flight.get(model, 1) - 1
        self._in_flight[model] = left
        if outcome == "done":
            self._loading.discard(model)  # one answer came back: the load is complete
            self._last_done[model] = self._clock()
        elif left == 0 and model in self._loading:
            self._loading.discard(model)  # the load never completed: we do not know
            self._resident.discard(model)
            if outcome == "unused" and ticket.loader:
                restored = self._resident | set(ticket.evicting)
                if self.plan.can_coreside(restored):
                    self._resident = restored
        self._dispatch()
