"""A pool of Ollama hosts used as one: placement by residency, health, failover.

In: the configured hosts (``settings.hosts``, or the one ``OLLAMA_HOST``), each with an
optional list of models it may serve and a weight; what each host's ``/api/ps`` and
``/api/tags`` say (cached briefly, refreshed after our own calls); the outcome of every
call. Out: for each attempt, the host to send it to:

1. a healthy host where the model is **resident** (loaded: no load to wait for);
2. else a healthy host where the model is **present** and ``has_room`` says it fits;
3. else a healthy host where it is present at all;
4. else any healthy host that may serve it (the model is pulled there);

ties go to the fewest calls in flight per unit of weight. A conversation stays on the
host it last used while that host is healthy (Ollama's prompt cache lives there).

Health: a connection error, a 5xx or a 503 "busy" puts a host in a cooldown that grows
with consecutive failures (as LiteLLM's cooldowns do); while cooling, a cheap
``/api/version`` probe may bring it back early. Failover happens inside the call runner's retry
budget: the next attempt is placed on another host. Nothing here is the truth of a shared
system: the caches are hints, rebuilt from the hosts themselves, so several manager
processes can use the same hosts.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from zero_llm.errors import (
    OllamaBusyError,
    OllamaServerError,
    OllamaTimeoutError,
    OllamaUnavailableError,
    ZeroLLMError,
)
from zero_llm.home_loop import Home
from zero_llm.ollama.client import LoadedModel, OllamaBackend
from zero_llm.settings import HostSettings, TimeoutSettings

__all__ = ["HostPool", "HostState", "HostView"]

log = logging.getLogger(__name__)

COOLDOWN_BASE = 2.0
"""Seconds of the first cooldown; each consecutive failure doubles it."""
COOLDOWN_MAX = 60.0
STATE_TTL = 5.0
"""Seconds a host's ``/api/ps`` and ``/api/tags`` are trusted before they are read again."""
PROBE_INTERVAL = 1.0
"""Seconds between two health probes of a cooling host."""
STATE_READ_TIMEOUT = 2.0
"""Longest wait for a host's ``/api/ps``, ``/api/tags`` or ``/api/version`` while placing a
call (a host that drips bytes would otherwise hold the call past its deadline)."""
SESSION_AFFINITY_LIMIT = 10_000

HOST_FAILURES = (OllamaUnavailableError, OllamaServerError, OllamaBusyError, OllamaTimeoutError)
"""Errors that say the host, not the request, is in trouble."""


@dataclass
class HostState:
    """What the pool knows of one host (a cache of what the host itself says)."""

    settings: HostSettings
    backend: OllamaBackend
    resident: dict[str, LoadedModel] = field(default_factory=dict)
    present: set[str] = field(default_factory=set)
    sizes: dict[str, int] = field(default_factory=dict)
    read_at: float = float("-inf")
    cooling_until: float = 0.0
    failures: int = 0
    in_flight: int = 0
    last_probe: float = float("-inf")
    last_error: str | None = None
    cooldowns: int = 0
    """Cooldowns started so far (a running count, read by telemetry)."""

    @property
    def url(self) -> str:
        """The host's base URL."""
        return self.backend.base_url

    def may_serve(self, model: str) -> bool:
        """Whether the settings allow this host to serve ``model``."""
        return not self.settings.models or model in self.settings.models

    def cooling(self, now: float) -> bool:
        """Whether the host is in a cooldown at ``now``."""
        return now < self.cooling_until


@dataclass(frozen=True)
class HostView:
    """One host as ``zero-llm hosts`` shows it."""

    url: str
    healthy: bool
    cooling_for_s: float
    """Seconds left of its cooldown (0 when healthy)."""
    resident: tuple[str, ...]
    present: tuple[str, ...]
    free_bytes: int | None
    last_error: str | None
    failures: int = 0
    """Consecutive failed calls (or state reads) behind the cooldown."""
    in_flight: int = 0
    """Calls of this process running on the host now."""
    weight: float = 1.0
    models: tuple[str, ...] = ()
    """The models the settings allow it to serve; empty: any."""


def _least_loaded(host: HostState) -> tuple[float, float]:
    """Sort key: calls in flight per unit of weight, then the heavier host first."""
    return host.in_flight / host.settings.weight, -host.settings.weight


class HostPool:
    """The configured Ollama hosts, placed and health-checked as one.

    Args:
        hosts: the hosts (at least one).
        timeouts: deadlines of every client.
        home: the loop that owns every host's connections (the runtime's home).
        refuse_truncation: send ``truncate: false`` with chat requests.
        has_room: whether a present model fits on a host now (the memory planner's say);
            by default every present model fits.
        clock: a monotonic clock (tests pass their own).
        state_ttl: seconds a host's ``/api/ps`` and ``/api/tags`` are trusted (benchmarks in
            scaled time scale it too).
    """

    def __init__(
        self,
        hosts: Sequence[HostSettings],
        timeouts: TimeoutSettings,
        *,
        home: Home,
        refuse_truncation: bool = True,
        has_room: Callable[[HostState, str], bool] | None = None,
        clock: Callable[[], float] = time.monotonic,
        state_ttl: float = STATE_TTL,
    ) -> None:
        if not hosts:
            raise ValueError("a host pool needs at least one host")
        self.hosts = [
            HostState(h, OllamaBackend(h.url, timeouts, home, refuse_truncation=refuse_truncation))
            for h in hosts
        ]
        self.has_room = has_room or (lambda host, model: True)
        self._clock = clock
        self.state_ttl = state_ttl
        self._sessions: dict[str, str] = {}

    @property
    def primary(self) -> OllamaBackend:
        """The first configured host's client (lifecycle calls without a placement)."""
        return self.hosts[0].backend

    def by_url(self, url: str) -> HostState | None:
        """The host with that base URL, if it is in the pool."""
        return next((h for h in self.hosts if h.url == url), None)

    # ----------------------------------------------------------- state
    async def refresh(self, host: HostState, *, force: bool = False) -> None:
        """Read the host's ``/api/ps`` and ``/api/tags`` unless the cache is fresh."""
        if not force and self._clock() - host.read_at < self.state_ttl:
            return
        try:
            async with asyncio.timeout(STATE_READ_TIMEOUT):
                loaded, sizes = await asyncio.gather(host.backend.loaded(), host.backend.sizes())
        except ZeroLLMError as error:
            self.failed(host, error)
            return
        except TimeoutError:
            self.failed(
                host,
                OllamaTimeoutError(f"{host.url} did not answer /api/ps and /api/tags in time"),
            )
            return
        host.resident = {m.name: m for m in loaded}
        host.sizes = sizes
        host.present = set(sizes)
        host.read_at = self._clock()

    def note_loaded(self, host: HostState, model: str) -> None:
        """Our own call just ran ``model`` on ``host``: it is present and resident there.

        When it was not resident before, the call loaded it, and the load may have evicted
        other models: the host's state is read again at the next placement.
        """
        host.present.add(model)
        if model not in host.resident:
            host.resident[model] = LoadedModel(model, None, None, None)
            host.read_at = float("-inf")

    # ---------------------------------------------------------- health
    def failed(self, host: HostState, error: ZeroLLMError) -> None:
        """Note a failed call: a host-side failure starts (or lengthens) a cooldown."""
        if not isinstance(error, HOST_FAILURES):
            return
        host.failures += 1
        host.cooldowns += 1
        wait = min(COOLDOWN_MAX, COOLDOWN_BASE * 2 ** (host.failures - 1))
        host.cooling_until = self._clock() + wait
        host.last_error = f"{type(error).__name__}: {error}"
        host.read_at = float("-inf")
        log.warning("Ollama host %s cools down for %.1fs after %s", host.url, wait, host.last_error)

    def succeeded(self, host: HostState) -> None:
        """Note a successful call: the host is healthy."""
        host.failures = 0
        host.cooling_until = 0.0
        host.last_error = None

    async def _healthy(self, host: HostState) -> bool:
        now = self._clock()
        if not host.cooling(now):
            return True
        if now - host.last_probe < PROBE_INTERVAL:
            return False
        host.last_probe = now
        try:
            async with asyncio.timeout(STATE_READ_TIMEOUT):
                await host.backend.version()
        except (ZeroLLMError, TimeoutError):
            return False
        log.info("Ollama host %s answers again", host.url)
        self.succeeded(host)
        return True

    # ------------------------------------------------------- placement
    async def place(self, model: str, session_id: str | None = None) -> HostState:
        """The host for the next attempt of a call for ``model`` (see the module docstring).

        With every allowed host cooling, the one whose cooldown ends first is chosen: the
        attempt then fails fast or finds the host back, inside the retry budget.
        """
        allowed = [h for h in self.hosts if h.may_serve(model)] or self.hosts
        if len(allowed) == 1:
            return allowed[0]
        healthy = [h for h in allowed if await self._healthy(h)]
        if not healthy:
            return min(allowed, key=lambda h: h.cooling_until)
        if session_id is not None:
            url = self._sessions.get(session_id)
            sticky = next((h for h in healthy if h.url == url), None)
            if sticky is not None:
                return sticky
        await asyncio.gather(*(self.refresh(h) for h in healthy))
        now = self._clock()
        healthy = [h for h in healthy if not h.cooling(now)] or healthy
        for tier in (
            [h for h in healthy if model in h.resident],
            [h for h in healthy if model in h.present and self.has_room(h, model)],
            [h for h in healthy if model in h.present],
            healthy,
        ):
            if tier:
                return min(tier, key=_least_loaded)
        raise AssertionError("unreachable: healthy is not empty")

    def remember_session(self, session_id: str | None, host: HostState) -> None:
        """Keep a conversation on ``host`` while it stays healthy."""
        if session_id is None:
            return
        if len(self._sessions) >= SESSION_AFFINITY_LIMIT and session_id not in self._sessions:
            self._sessions.pop(next(iter(self._sessions)))
        self._sessions[session_id] = host.url

    # ----------------------------------------------------------- views
    async def views(self) -> list[HostView]:
        """Each host: healthy or cooling, resident and present models, free room."""
        now = self._clock()
        await asyncio.gather(*(self.refresh(h, force=True) for h in self.hosts))
        return [
            HostView(
                url=h.url,
                healthy=not h.cooling(now),
                cooling_for_s=max(0.0, h.cooling_until - now),
                resident=tuple(sorted(h.resident)),
                present=tuple(sorted(h.present)),
                free_bytes=None,
                last_error=h.last_error,
                failures=h.failures,
                in_flight=h.in_flight,
                weight=h.settings.weight,
                models=h.settings.models,
            )
            for h in self.hosts
        ]

    async def aclose(self) -> None:
        """Close every host's connections."""
        for host in self.hosts:
            await host.backend.aclose()
