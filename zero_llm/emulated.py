"""Which Ollama hosts are emulated: their answers are marked so no summary mistakes them.

In: the base URL of an emulator this process serves answers from (``zero-llm demo`` marks
the one it starts). Out: ``is_emulated(url)`` for the usage record of each call.
A process-wide set: the emulator lives in this process, so this process knows it.
"""

from __future__ import annotations

import threading

__all__ = ["is_emulated", "mark_emulated", "unmark_emulated"]

_HOSTS: set[str] = set()
_LOCK = threading.Lock()


def _key(url: str) -> str:
    return url.rstrip("/").lower()


def mark_emulated(url: str) -> None:
    """Note that answers from ``url`` are emulated, not a model's."""
    with _LOCK:
        _HOSTS.add(_key(url))


def unmark_emulated(url: str) -> None:
    """Forget ``url`` (its emulator stopped; the port may serve something else later)."""
    with _LOCK:
        _HOSTS.discard(_key(url))


def is_emulated(url: str | None) -> bool:
    """Whether answers from ``url`` are emulated."""
    return url is not None and _key(url) in _HOSTS
