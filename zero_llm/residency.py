"""The memory plan and residency scheduling of each Ollama host, as the engine uses them.

In: the settings (catalog, ``context_window``, the ``memory`` group), each host's
``/api/tags`` sizes and ``/api/show`` model facts, and ``/api/ps``. Out: the planned
``num_ctx`` of each model, one ``ResidencyScheduler`` per host (the order requests go to
Ollama, their ``keep_alive``, queue waits and "cold load of X (evicting Y)" notes), a
warning for every model Ollama put partly on the CPU, and ``has_room`` for host placement.

With no GPU budget known (no ``memory.gpu_memory`` setting and no ``nvidia-smi``) nothing is
planned or scheduled: windows are as configured, and ``/api/ps`` is still read after a
model's first call on a host to warn when it runs partly on the CPU.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from zero_llm.catalog import Catalog
from zero_llm.errors import ZeroLLMError
from zero_llm.memory_plan import (
    GpuBudget,
    MemoryPlan,
    ModelFacts,
    OffloadWatch,
    ResidencyScheduler,
    plan_from_settings,
    resolve_gpu_budget,
)
from zero_llm.ollama.client import OllamaBackend
from zero_llm.settings import ZeroLLMSettings

__all__ = ["HostResidency", "Residency"]

log = logging.getLogger(__name__)


@dataclass
class HostResidency:
    """The plan and the scheduler of one host."""

    plan: MemoryPlan
    scheduler: ResidencyScheduler


class Residency:
    """Plans memory and schedules loads per host (see the module docstring)."""

    def __init__(self, settings: ZeroLLMSettings, catalog: Catalog) -> None:
        self.settings = settings
        self.catalog = catalog
        self._budget: GpuBudget | None = None
        self._hosts: dict[str, HostResidency] = {}
        self._checked: set[tuple[str, str]] = set()
        self._watch = OffloadWatch()

    async def budget(self) -> GpuBudget:
        """The GPU budget: the setting, else ``nvidia-smi`` (run once), else unknown."""
        if self._budget is None:
            self._budget = await asyncio.to_thread(resolve_gpu_budget, self.settings.memory)
            log.info("GPU memory for the plan: %s", self._budget.describe())
        return self._budget

    def of(self, url: str) -> HostResidency | None:
        """The host's plan and scheduler, once planned."""
        return self._hosts.get(url)

    async def plan_for(self, url: str, backend: OllamaBackend) -> HostResidency | None:
        """Plan the host's memory once (None when no budget is known)."""
        known = self._hosts.get(url)
        if known is not None:
            return known
        budget = await self.budget()
        if budget.bytes is None:
            return None
        plan = plan_from_settings(self.settings, await self._facts(backend), budget.bytes)
        for warning in plan.warnings:
            log.warning("%s: %s", url, warning)
        scheduler = ResidencyScheduler.from_settings(plan, self.settings.memory)
        host = self._hosts.setdefault(url, HostResidency(plan, scheduler))
        await self.observe(url, backend)
        return host

    async def plan(self, url: str, backend: OllamaBackend) -> MemoryPlan:
        """The host's plan; without a known budget, the windows as configured (unlimited)."""
        planned = await self.plan_for(url, backend)
        if planned is not None:
            return planned.plan
        return plan_from_settings(self.settings, await self._facts(backend), None)

    async def _facts(self, backend: OllamaBackend) -> dict[str, ModelFacts]:
        """The memory facts of every catalog model present on the host."""
        sizes = await backend.sizes()
        facts: dict[str, ModelFacts] = {}
        for spec in self.catalog.models.values():
            if spec.name in sizes:
                shown = await backend.show(spec.name)
                facts[spec.name] = ModelFacts.from_model_info(
                    spec.name, shown.model_info, sizes[spec.name]
                )
        return facts

    def forget(self, url: str) -> None:
        """Plan the host again on its next call (after a pull added a model)."""
        self._hosts.pop(url, None)

    async def observe(self, url: str, backend: OllamaBackend) -> None:
        """Read ``/api/ps``: tell the scheduler what is resident, warn about CPU offload.

        A failed read costs only this observation (logged): it never fails a call whose
        answer is complete, and the scheduler keeps what it knows from its own loads.
        """
        try:
            loaded = await backend.loaded()
        except ZeroLLMError as error:
            log.warning("%s: could not read /api/ps (%s); residency as last known", url, error)
            return
        for warning in self._watch.check(
            {"model": m.name, "size": m.size, "size_vram": m.size_vram} for m in loaded
        ):
            log.warning("%s: %s", url, warning)
        host = self._hosts.get(url)
        if host is not None:
            host.scheduler.observe_resident(m.name for m in loaded)

    async def after_call(self, url: str, backend: OllamaBackend, model: str, cold: bool) -> None:
        """After a call: read ``/api/ps`` when it loaded the model (or first ran it here)."""
        first = (url, model) not in self._checked
        if cold or first:
            self._checked.add((url, model))
            await self.observe(url, backend)

    def has_room(self, url: str, resident: set[str], model: str) -> bool:
        """Whether ``model`` fits on the host beside what is resident, by its plan."""
        host = self._hosts.get(url)
        return host is None or host.plan.can_coreside(resident | {model})
