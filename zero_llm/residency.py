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
from collections.abc import Mapping
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
from zero_llm.ollama.client import OllamaBackend, ShownModel
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
        self._plans: dict[str, MemoryPlan] = {}  # per host, with or without a budget
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

    async def plan_for(
        self, url: str, backend: OllamaBackend, shown: Mapping[str, ShownModel] | None = None
    ) -> HostResidency | None:
        """The host's plan and scheduler, made once (None when no budget is known).

        ``shown``: ``/api/show`` answers the caller has already (not asked again).
        """
        known = self._hosts.get(url)
        if known is not None:
            return known
        if (await self.budget()).bytes is None:
            return None  # nothing to plan or schedule: no /api/show or /api/tags asked
        plan = await self.plan(url, backend, shown)
        scheduler = ResidencyScheduler.from_settings(plan, self.settings.memory)
        host = self._hosts.setdefault(url, HostResidency(plan, scheduler))
        await self.observe(url, backend)
        return host

    async def plan(
        self, url: str, backend: OllamaBackend, shown: Mapping[str, ShownModel] | None = None
    ) -> MemoryPlan:
        """The host's plan (made once); without a budget, the windows as configured."""
        known = self._plans.get(url)
        if known is not None:
            return known
        budget = await self.budget()
        plan = plan_from_settings(self.settings, await self._facts(backend, shown), budget.bytes)
        if budget.bytes is not None:
            for warning in plan.warnings:
                log.warning("%s: %s", url, warning)
        return self._plans.setdefault(url, plan)

    async def _facts(
        self, backend: OllamaBackend, shown: Mapping[str, ShownModel] | None
    ) -> dict[str, ModelFacts]:
        """The memory facts of every catalog model present on the host (asked at once)."""
        sizes = await backend.sizes()
        names = [spec.name for spec in self.catalog.models.values() if spec.name in sizes]
        known = shown or {}
        answers = await asyncio.gather(
            *(self._shown(backend, name, known.get(name)) for name in names)
        )
        return {
            name: ModelFacts.from_model_info(name, answer.model_info, sizes[name])
            for name, answer in zip(names, answers, strict=True)
        }

    @staticmethod
    async def _shown(backend: OllamaBackend, name: str, known: ShownModel | None) -> ShownModel:
        return known if known is not None else await backend.show(name)

    def forget(self, url: str) -> None:
        """Plan the host again on its next call (after a pull added a model)."""
        self._hosts.pop(url, None)
        self._plans.pop(url, None)

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
        for warning in self._watch.check(loaded):
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
