"""The memory plan for the configured catalog: settings in, ``plan_memory`` arguments out.

In: ``ZeroLLMSettings`` (the catalog, ``context_window``, ``num_ctx_memory_cap`` and the
``memory`` group), each model's ``ModelFacts`` (from ``/api/show`` and ``/api/tags``) and the
GPU budget (``resolve_gpu_budget``). Out: a ``MemoryPlan``. Pure: the residency layer does the I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from zero_llm.memory_plan.facts import ModelFacts
from zero_llm.memory_plan.planner import MemoryPlan, ModelDemand, PlanPolicy, plan_memory

if TYPE_CHECKING:
    from zero_llm.settings import ZeroLLMSettings

__all__ = ["plan_from_settings"]


def plan_from_settings(
    settings: ZeroLLMSettings, facts: Mapping[str, ModelFacts], budget: int | None
) -> MemoryPlan:
    """Plan every catalog model whose facts are known; the default role is the priority."""
    memory = settings.memory
    demands = [
        ModelDemand(facts[spec.name], role, spec.context_window)
        for role, spec in settings.models.items()
        if spec.name in facts
    ]
    default = settings.models.get(settings.default_role)
    policy = PlanPolicy(
        floor=memory.num_ctx_floor,
        quick_num_ctx=memory.quick_num_ctx,
        overhead_bytes=memory.overhead_bytes(),
        max_loaded_models=memory.max_loaded_models,
    )
    return plan_memory(
        demands,
        budget=budget,
        context_window=settings.context_window,
        memory_cap=settings.num_ctx_memory_cap,
        num_parallel=memory.num_parallel,
        kv_cache_type=memory.planned_kv_cache_type(),
        priority=default.name if default else None,
        policy=policy,
    )
