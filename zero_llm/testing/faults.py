"""Fault injection for the Ollama emulator.

Tests arm faults from any thread; the server consumes them, one per request, in the
order they were armed. Each fault hits ``times`` requests to the model endpoints
(``/api/chat``, ``/api/generate``, ``/api/embed`` unless ``paths`` says otherwise).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["Fault", "FaultKind", "Faults"]

FaultKind = Literal[
    "status",
    "stall",
    "cut",
    "malformed",
    "error_line",
    "slow_load",
    "bad_json",
    "no_done",
]

MODEL_PATHS: tuple[str, ...] = ("/api/chat", "/api/generate", "/api/embed")
BUSY_MESSAGE = "server busy, please try again.  maximum pending requests exceeded"


@dataclass
class Fault:
    """One armed fault and how many more requests it hits."""

    kind: FaultKind
    times: int
    paths: tuple[str, ...] = MODEL_PATHS
    status: int = 500
    message: str = "llama runner process has terminated: exit status 2"
    after_chunks: int = 0
    seconds: float = 0.0


@dataclass
class Faults:
    """The faults armed on one emulator; every method is safe to call from any thread."""

    _armed: list[Fault] = field(default_factory=list)
    _refuse_hook: Callable[[float], None] | None = None
    _random_rate: float = 0.0
    _random_status: int = 503
    _rng: random.Random = field(default_factory=lambda: random.Random(0))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    fired: list[FaultKind] = field(default_factory=list)
    """Every fault that hit a request, in order (for tests to assert on)."""

    def _arm(self, fault: Fault) -> Faults:
        if fault.times < 1:
            raise ValueError("a fault must hit at least one request (times >= 1)")
        with self._lock:
            self._armed.append(fault)
        return self

    def fail_next(
        self,
        times: int = 1,
        *,
        status: int = 500,
        message: str = "llama runner process has terminated: exit status 2",
        paths: tuple[str, ...] = MODEL_PATHS,
    ) -> Faults:
        """Answer the next ``times`` requests with ``status`` and ``{"error": message}``."""
        return self._arm(Fault("status", times, paths, status=status, message=message))

    def busy_next(self, times: int = 1) -> Faults:
        """Answer the next ``times`` requests with Ollama's 503 "server busy"."""
        return self.fail_next(times, status=503, message=BUSY_MESSAGE)

    def stall_before_first_chunk(self, seconds: float, times: int = 1) -> Faults:
        """Hold the next responses ``seconds`` before their headers and first chunk."""
        return self._arm(Fault("stall", times, seconds=seconds))

    def cut_stream_after(self, chunks: int, times: int = 1) -> Faults:
        """Drop the connection after ``chunks`` chunks of the next streams."""
        return self._arm(Fault("cut", times, after_chunks=chunks))

    def malformed_line_after(self, chunks: int, times: int = 1) -> Faults:
        """Send a line that is not JSON after ``chunks`` chunks of the next streams."""
        return self._arm(Fault("malformed", times, after_chunks=chunks))

    def error_line_after(
        self,
        chunks: int,
        message: str = "an error was encountered while running the model",
        times: int = 1,
    ) -> Faults:
        """Send an ``{"error": ...}`` line after ``chunks`` chunks and end the stream."""
        return self._arm(Fault("error_line", times, after_chunks=chunks, message=message))

    def end_without_done_after(self, chunks: int, times: int = 1) -> Faults:
        """End the next streams cleanly after ``chunks`` chunks, never sending ``done: true``."""
        return self._arm(Fault("no_done", times, after_chunks=chunks))

    def slow_load(self, seconds: float, times: int = 1) -> Faults:
        """Make the next model loads take ``seconds`` of real time."""
        return self._arm(Fault("slow_load", times, seconds=seconds))

    def invalid_json_next(self, times: int = 1) -> Faults:
        """Answer the next requests that ask for a ``format`` with text that is not JSON."""
        return self._arm(Fault("bad_json", times, paths=("/api/chat", "/api/generate")))

    def fail_randomly(self, rate: float, *, status: int = 503, seed: int = 0) -> Faults:
        """Fail each model request with probability ``rate`` (0 turns it off), reproducibly."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        with self._lock:
            self._random_rate, self._random_status = rate, status
            self._rng = random.Random(seed)
        return self

    def refuse_connections(self, seconds: float) -> Faults:
        """Go down for ``seconds``: open connections drop, new ones are refused, then served."""
        if self._refuse_hook is None:
            raise RuntimeError("refusing connections needs a running emulator")
        self._refuse_hook(seconds)
        return self

    def set_refuse_hook(self, hook: Callable[[float], None]) -> None:
        """Let the emulator that owns these faults take its socket down on request."""
        self._refuse_hook = hook

    def clear(self) -> None:
        """Disarm every fault."""
        with self._lock:
            self._armed.clear()
            self._random_rate = 0.0

    def take(self, path: str, kinds: tuple[FaultKind, ...]) -> Fault | None:
        """Consume and return the first armed fault of one of ``kinds`` for ``path``."""
        with self._lock:
            if (
                "status" in kinds
                and path in MODEL_PATHS
                and self._random_rate
                and self._rng.random() < self._random_rate
            ):
                self.fired.append("status")
                message = BUSY_MESSAGE if self._random_status == 503 else "injected failure"
                return Fault("status", 1, status=self._random_status, message=message)
            for fault in self._armed:
                if fault.kind in kinds and path in fault.paths:
                    fault.times -= 1
                    if fault.times == 0:
                        self._armed.remove(fault)
                    self.fired.append(fault.kind)
                    return Fault(
                        fault.kind,
                        1,
                        fault.paths,
                        fault.status,
                        fault.message,
                        fault.after_chunks,
                        fault.seconds,
                    )
        return None

    @property
    def pending(self) -> int:
        """How many fault hits are still armed."""
        with self._lock:
            return sum(f.times for f in self._armed)
