"""Where the GPU memory budget comes from, and the warning when Ollama offloads anyway.

In: the ``memory`` settings and, when ``gpu_memory`` is not set, ``nvidia-smi`` on PATH
(``--query-gpu=memory.total --format=csv,noheader,nounits``, MiB per GPU; the budget is the
sum over all GPUs, since Ollama splits one model's layers across GPUs when it does not fit
one). Out: a ``GpuBudget`` (bytes or None = unlimited, and where it came from).

``OffloadWatch`` is pure: it reads ``/api/ps`` entries (dicts or the ``ollama`` client's
objects) and returns a warning the first time a model shows ``size_vram < size``.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from zero_llm.memory_plan.sizes import format_bytes

__all__ = ["GpuBudget", "OffloadWatch", "detect_gpu_memory", "resolve_gpu_budget"]

logger = logging.getLogger(__name__)

NVIDIA_SMI_ARGS = ("--query-gpu=memory.total", "--format=csv,noheader,nounits")
_MiB = 1024**2


class _MemorySettings(Protocol):
    """The part of ``MemorySettings`` this module reads."""

    def gpu_memory_bytes(self) -> int | None:
        """The configured GPU memory in bytes, or None."""
        ...


@dataclass(frozen=True)
class GpuBudget:
    """The GPU memory the plan may use."""

    bytes: int | None
    """Bytes, or None when unknown (planned as unlimited)."""
    source: str
    """``"setting"``, ``"nvidia-smi"`` or ``"unknown"``."""

    def describe(self) -> str:
        """One line for the CLI, e.g. ``"24.0 GiB (from nvidia-smi)"``."""
        if self.bytes is None:
            return "unlimited (no gpu_memory setting and no nvidia-smi)"
        return f"{format_bytes(self.bytes)} (from {self.source})"


def detect_gpu_memory(executable: str = "nvidia-smi", timeout: float = 5.0) -> int | None:
    """Total memory of all NVIDIA GPUs in bytes via ``nvidia-smi``, or None if unavailable."""
    path = shutil.which(executable)
    if path is None:
        return None
    try:
        done = subprocess.run(
            [path, *NVIDIA_SMI_ARGS], capture_output=True, text=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.SubprocessError) as exc:
        logger.warning("nvidia-smi could not run (%s); GPU memory unknown", exc)
        return None
    if done.returncode != 0:
        logger.warning("nvidia-smi failed (exit %s); GPU memory unknown", done.returncode)
        return None
    total = 0
    for line in done.stdout.splitlines():
        if not line.strip():
            continue
        try:
            total += int(float(line.strip()) * _MiB)
        except ValueError:
            logger.warning("nvidia-smi printed %r, not MiB; GPU memory unknown", line.strip())
            return None
    return total or None


def resolve_gpu_budget(memory: _MemorySettings, executable: str = "nvidia-smi") -> GpuBudget:
    """The budget: the ``gpu_memory`` setting, else ``nvidia-smi``, else unlimited."""
    configured = memory.gpu_memory_bytes()
    if configured is not None:
        return GpuBudget(configured, "setting")
    detected = detect_gpu_memory(executable)
    if detected is not None:
        return GpuBudget(detected, "nvidia-smi")
    return GpuBudget(None, "unknown")


def _field(entry: Any, name: str) -> Any:
    """A field of a ``/api/ps`` entry, whether a mapping or an object."""
    if isinstance(entry, Mapping):
        return entry.get(name)
    return getattr(entry, name, None)


@dataclass
class OffloadWatch:
    """Warns once per model when ``/api/ps`` shows it partly on the CPU."""

    warned: set[str] = field(default_factory=set)
    """Models already warned about."""

    def check(self, entries: Iterable[Any]) -> list[str]:
        """Return a warning for each newly offloaded model in these ``/api/ps`` entries."""
        warnings: list[str] = []
        for entry in entries:
            name = _field(entry, "model") or _field(entry, "name")
            size, vram = _field(entry, "size"), _field(entry, "size_vram")
            if not name or not isinstance(size, int) or not isinstance(vram, int):
                continue
            if vram >= size or name in self.warned:
                continue
            self.warned.add(name)
            on_cpu = size - vram
            warnings.append(
                f"{name} is partly on the CPU: {format_bytes(on_cpu)} of {format_bytes(size)} "
                f"({100 * on_cpu // max(size, 1)}%) does not fit the GPU, so it runs many times "
                "slower; set memory.gpu_memory (e.g. ZERO_LLM_MEMORY__GPU_MEMORY=24GiB) so "
                "zero_llm plans smaller windows"
            )
        return warnings
