"""Ollama's scheduler and memory model (its ``server/sched.go``), for the emulator.

In: requests for a model with a ``num_ctx`` and a ``keep_alive``. Out: a ``Lease`` on a loaded
runner once the request may run, with the load and queue waits behind it really elapsed
(scaled by ``time_scale``), and counters in ``SchedulerStats``. No HTTP here; the server
acquires a lease before answering and releases it when the answer is written.

What it models, as Ollama does:

- A loaded model's memory is its weights, a KV cache for ``num_ctx x num_parallel`` tokens
  (``2 x layers x KV heads x head dim x bytes per element``; f16 2, q8_0 34/32, q4_0 18/32)
  and a small fixed overhead (``model_memory``).
- Requests for a loaded model with the same ``num_ctx`` run in its ``num_parallel`` slots;
  the rest wait for a slot in FIFO order.
- Any other request joins one FIFO pending queue (at most ``max_queue``, then "server busy"),
  handled one at a time: a model loaded with another ``num_ctx`` is reloaded once idle; past
  ``max_loaded_models``, or when the model does not fit beside the loaded ones, a model is
  unloaded: an idle one (shortest keep-alive first, then least recently used; Ollama breaks
  that tie by name), and when none is idle the load waits until one is — a model busy with a
  request is never evicted. One load at a time, taking ``load_seconds x time_scale``.
- A model that does not fit in GPU memory even alone is loaded partly on the CPU
  (``size_vram < size``) and runs ``speed_factor`` times slower.
- Idle models unload when their keep-alive runs out (``keep_alive: 0``: at once; < 0: never).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

from zero_llm.testing.catalog import EmulatedModel

__all__ = [
    "KV_BYTES_PER_ELEMENT",
    "Lease",
    "LoadedRunner",
    "Scheduler",
    "SchedulerBusy",
    "SchedulerSettings",
    "SchedulerStats",
    "model_memory",
    "parse_size",
]

log = logging.getLogger(__name__)

KvCacheType = Literal["f16", "q8_0", "q4_0"]
KV_BYTES_PER_ELEMENT: dict[str, float] = {"f16": 2.0, "q8_0": 34 / 32, "q4_0": 18 / 32}
"""Bytes per KV cache element by ``OLLAMA_KV_CACHE_TYPE`` (q8_0/q4_0: blocks of 32 + scale)."""
FIXED_OVERHEAD = 256 * 2**20
"""Bytes every loaded model takes beyond weights and KV cache (compute graph, buffers)."""
CPU_SLOWDOWN = 10.0
"""How many times slower a layer runs on the CPU than on the GPU."""
BUSY_MESSAGE = "server busy, please try again.  maximum pending requests exceeded"


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}
_SIZE_UNITS |= {"kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def parse_size(text: str) -> int:
    """Bytes from a size such as ``24GiB``, ``24 GB``, ``512MiB`` or ``1000``."""
    found = _SIZE.match(text)
    if found is None:
        raise ValueError(f"not a size: {text!r} (examples: 24GiB, 16GB, 512MiB)")
    return int(float(found.group(1)) * _SIZE_UNITS[(found.group(2) or "").lower()])


class SchedulerBusy(Exception):
    """The pending queue is full: Ollama answers 503 with ``BUSY_MESSAGE``."""


def model_memory(model: EmulatedModel, num_ctx: int, num_parallel: int, kv_type: str) -> int:
    """Bytes a model takes loaded: weights + KV cache for num_ctx x num_parallel + overhead."""
    kv = model.kv_elements_per_token * num_ctx * num_parallel * KV_BYTES_PER_ELEMENT[kv_type]
    return model.size + int(kv) + FIXED_OVERHEAD


@dataclass(frozen=True)
class SchedulerSettings:
    """The scheduler's knobs, named after Ollama's environment settings."""

    gpu_memory: int | None = None
    """Bytes of GPU memory; None: unlimited."""
    num_parallel: int = 1
    """OLLAMA_NUM_PARALLEL: requests served at once per loaded model."""
    max_loaded_models: int = 3
    """OLLAMA_MAX_LOADED_MODELS: models loaded at once."""
    max_queue: int = 512
    """OLLAMA_MAX_QUEUE: pending requests before "server busy"."""
    kv_cache_type: KvCacheType = "f16"
    """OLLAMA_KV_CACHE_TYPE: f16, q8_0 or q4_0."""
    time_scale: float = 0.0
    """Real seconds per simulated second (0: instant)."""

    def __post_init__(self) -> None:
        if self.gpu_memory is not None and self.gpu_memory <= 0:
            raise ValueError(f"gpu_memory must be positive, got {self.gpu_memory}")
        for name in ("num_parallel", "max_loaded_models", "max_queue"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.kv_cache_type not in KV_BYTES_PER_ELEMENT:
            raise ValueError(
                f"kv_cache_type must be one of {sorted(KV_BYTES_PER_ELEMENT)}, "
                f"got {self.kv_cache_type!r}"
            )
        if self.time_scale < 0:
            raise ValueError(f"time_scale must be >= 0, got {self.time_scale}")


@dataclass
class SchedulerStats:
    """Counters for tests and benchmarks (read a copy through ``OllamaEmulator.stats``)."""

    loads: int = 0
    """Models loaded (reloads included)."""
    reloads: int = 0
    """Loads that replaced the same model loaded with another num_ctx."""
    evictions: int = 0
    """Models unloaded to make room for another."""
    unloads: int = 0
    """Models unloaded because their keep-alive ran out, was 0, or they were deleted."""
    partial_offloads: int = 0
    """Loads that did not fit in GPU memory and went partly to the CPU."""
    queue_waits: int = 0
    """Requests that waited: for a slot, or behind the pending queue, a load or an eviction."""
    busy_rejections: int = 0
    """Requests refused with 503 because the pending queue was full."""


@dataclass
class LoadedRunner:
    """One model in memory and the requests using it."""

    model: EmulatedModel
    num_ctx: int
    size: int
    size_vram: int
    slots: asyncio.Semaphore
    keep_alive: float
    expires_at: float
    last_used: float
    refs: int = 0
    """Requests holding or waiting for a slot (Ollama's refCount): >0 means busy."""
    expiring: bool = False
    """Marked to unload as soon as it is idle."""
    idle: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def speed_factor(self) -> float:
        """How many times slower than fully on the GPU (1.0 unless partly on the CPU)."""
        on_cpu = 1.0 - self.size_vram / self.size if self.size else 0.0
        return 1.0 + on_cpu * (CPU_SLOWDOWN - 1.0)


@dataclass
class Lease:
    """A request's hold on a slot of a loaded runner; release it exactly once."""

    runner: LoadedRunner
    loaded: bool
    """Whether this request loaded the model."""
    waited: bool
    """Whether this request had to wait (queue, slot, load of another request, eviction)."""
    _release: Callable[[Lease], None]
    _released: bool = False

    def release(self) -> None:
        """Give the slot back (idempotent)."""
        if not self._released:
            self._released = True
            self._release(self)


def _expiry(now: float, keep_alive: float) -> float:
    return float("inf") if keep_alive < 0 else now + keep_alive


class Scheduler:
    """Ollama's scheduler over the emulator's models; use it on one event loop."""

    def __init__(self, settings: SchedulerSettings) -> None:
        self.settings = settings
        self.loaded: dict[str, LoadedRunner] = {}
        self.stats = SchedulerStats()
        self._pending = 0
        self._pending_lock: asyncio.Lock | None = None

    def snapshot(self) -> SchedulerStats:
        """A copy of the counters."""
        return replace(self.stats)

    # ----------------------------------------------------------------- acquire
    async def acquire(
        self,
        model: EmulatedModel,
        num_ctx: int,
        keep_alive: float,
        extra_load: Callable[[], float] | None = None,
    ) -> Lease:
        """Wait until ``model`` is loaded with ``num_ctx`` and a slot is free; hold it.

        ``extra_load`` is asked, only when this request loads the model, for real seconds
        to add to the load (the emulator's ``slow_load`` fault).
        """
        self.expire(time.time())
        runner = self.loaded.get(model.name)
        loaded = waited = False
        if runner is None or runner.expiring or runner.num_ctx != num_ctx:
            if self._pending >= self.settings.max_queue:
                self.stats.busy_rejections += 1
                raise SchedulerBusy(BUSY_MESSAGE)
            if self._pending_lock is None:
                self._pending_lock = asyncio.Lock()
            self._pending += 1
            try:
                waited = self._pending_lock.locked()
                async with self._pending_lock:
                    runner, loaded, evicted = await self._schedule(model, num_ctx, extra_load)
                    waited = waited or evicted
                    runner.refs += 1  # taken before the queue moves on: never evicted now
                    runner.idle.clear()
            finally:
                self._pending -= 1
        else:
            runner.refs += 1
            runner.idle.clear()
        runner.keep_alive = keep_alive
        runner.expires_at = _expiry(time.time(), keep_alive)
        if runner.slots.locked():
            waited = True
        try:
            await runner.slots.acquire()
        except BaseException:
            self._drop_ref(runner)
            raise
        if waited:
            self.stats.queue_waits += 1
        return Lease(runner, loaded, waited, self._release)

    async def _schedule(
        self, model: EmulatedModel, num_ctx: int, extra_load: Callable[[], float] | None
    ) -> tuple[LoadedRunner, bool, bool]:
        """The pending loop of sched.go for one request: (runner, loaded it, waited)."""
        waited = False
        while True:
            self.expire(time.time())
            runner = self.loaded.get(model.name)
            if runner is not None and not runner.expiring and runner.num_ctx == num_ctx:
                return runner, False, waited
            size = model_memory(
                model, num_ctx, self.settings.num_parallel, self.settings.kv_cache_type
            )
            if runner is not None:
                victim, reason = runner, "reload"
            elif len(self.loaded) >= self.settings.max_loaded_models:
                victim, reason = self._victim(), "evict"
            elif not self.loaded or self._fits(size):
                return await self._load(model, num_ctx, size, extra_load), True, waited
            else:
                victim, reason = self._victim(), "evict"
            waited = waited or victim.refs > 0
            await self._unload_when_idle(victim, reason, model.name)

    def _fits(self, size: int) -> bool:
        gpu = self.settings.gpu_memory
        return gpu is None or sum(r.size_vram for r in self.loaded.values()) + size <= gpu

    def _victim(self) -> LoadedRunner:
        """findRunnerToUnload: an idle runner (shortest keep-alive, then LRU), else the first."""
        ranked = sorted(
            self.loaded.values(), key=lambda r: (r.keep_alive < 0, r.keep_alive, r.last_used)
        )
        return next((r for r in ranked if r.refs == 0), ranked[0])

    async def _unload_when_idle(self, victim: LoadedRunner, reason: str, for_model: str) -> None:
        victim.expiring = True
        if victim.refs > 0:
            try:
                await victim.idle.wait()
            except asyncio.CancelledError:  # the waiting client went away: keep the model
                victim.expiring = False
                raise
        if self.loaded.get(victim.model.name) is victim:
            self._remove(victim, reason, for_model)

    async def _load(
        self, model: EmulatedModel, num_ctx: int, size: int, extra_load: Callable[[], float] | None
    ) -> LoadedRunner:
        gpu = self.settings.gpu_memory
        size_vram = size if gpu is None or size <= gpu else gpu
        seconds = model.load_seconds * self.settings.time_scale
        seconds += extra_load() if extra_load is not None else 0.0
        if seconds > 0:
            await asyncio.sleep(seconds)
        now = time.time()
        runner = LoadedRunner(
            model=model,
            num_ctx=num_ctx,
            size=size,
            size_vram=size_vram,
            slots=asyncio.Semaphore(self.settings.num_parallel),
            keep_alive=0.0,
            expires_at=now,
            last_used=time.monotonic(),
        )
        self.loaded[model.name] = runner
        self.stats.loads += 1
        if size_vram < size:
            self.stats.partial_offloads += 1
        log.info(
            "load %s num_ctx=%d size=%.1fGiB vram=%.1fGiB%s",
            model.name,
            num_ctx,
            size / 2**30,
            size_vram / 2**30,
            " (partly on the CPU)" if size_vram < size else "",
        )
        return runner

    # ----------------------------------------------------------------- release
    def _release(self, lease: Lease) -> None:
        runner = lease.runner
        runner.slots.release()
        runner.last_used = time.monotonic()
        self._drop_ref(runner)

    def _drop_ref(self, runner: LoadedRunner) -> None:
        runner.refs -= 1
        if runner.refs > 0:
            return
        runner.idle.set()
        now = time.time()
        runner.expires_at = _expiry(now, runner.keep_alive)
        if not runner.expiring and runner.keep_alive == 0:
            self._remove(runner, "unload", None)

    # ------------------------------------------------------------ housekeeping
    def expire(self, now: float) -> None:
        """Unload every idle model whose keep-alive has run out."""
        for runner in list(self.loaded.values()):
            if runner.refs == 0 and not runner.expiring and runner.expires_at <= now:
                self._remove(runner, "unload", None)

    def unload(self, name: str) -> None:
        """``keep_alive: 0`` with no messages: unload now, or when its requests finish."""
        runner = self.loaded.get(name)
        if runner is None:
            return
        runner.keep_alive = 0.0
        if runner.refs == 0:
            self._remove(runner, "unload", None)

    def forget(self, name: str) -> None:
        """Drop a model from memory at once (deleted, or taken off disk)."""
        runner = self.loaded.get(name)
        if runner is not None:
            self._remove(runner, "unload", None)

    def clear(self) -> None:
        """Unload everything and zero the counters."""
        self.loaded.clear()
        self.stats = SchedulerStats()

    def _remove(self, runner: LoadedRunner, reason: str, for_model: str | None) -> None:
        if self.loaded.get(runner.model.name) is runner:
            del self.loaded[runner.model.name]
        runner.expiring = True
        if reason == "evict":
            self.stats.evictions += 1
            log.info("evict %s to make room for %s", runner.model.name, for_model)
        elif reason == "reload":
            self.stats.reloads += 1
            log.info("unload %s to reload it with another num_ctx", runner.model.name)
        else:
            self.stats.unloads += 1
            log.info("unload %s (keep-alive over)", runner.model.name)
