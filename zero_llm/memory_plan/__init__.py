"""GPU memory planning and residency-aware scheduling for one Ollama host.

In: each model's ``/api/show`` facts and file size, the GPU budget, the ``memory`` settings,
``/api/ps`` observations, and the calls' requests. Out: one fixed ``num_ctx`` per model, the
sets of models that fit together (``MemoryPlan``), the order requests go to Ollama with their
``keep_alive`` (``ResidencyScheduler``), the plan's display rows and the benchmark's lower
bound on loads. Everything but ``detect_gpu_memory`` / ``resolve_gpu_budget`` is pure.
"""

from __future__ import annotations

from zero_llm.memory_plan.facts import ModelFacts
from zero_llm.memory_plan.from_settings import plan_from_settings
from zero_llm.memory_plan.gpu import GpuBudget, OffloadWatch, detect_gpu_memory, resolve_gpu_budget
from zero_llm.memory_plan.lower_bound import min_loads
from zero_llm.memory_plan.planner import (
    KV_BYTES_PER_ELEMENT,
    MemoryPlan,
    ModelDemand,
    ModelPlan,
    PlanPolicy,
    plan_memory,
)
from zero_llm.memory_plan.scheduler import (
    KeepAlivePolicy,
    ResidencyScheduler,
    SchedulerState,
    Ticket,
)
from zero_llm.memory_plan.sizes import format_bytes, parse_memory_size
from zero_llm.memory_plan.view import PLAN_COLUMNS, PlanRow, describe_plan, plan_summary

__all__ = [
    "KV_BYTES_PER_ELEMENT",
    "PLAN_COLUMNS",
    "GpuBudget",
    "KeepAlivePolicy",
    "MemoryPlan",
    "ModelDemand",
    "ModelFacts",
    "ModelPlan",
    "OffloadWatch",
    "PlanPolicy",
    "PlanRow",
    "ResidencyScheduler",
    "SchedulerState",
    "Ticket",
    "describe_plan",
    "detect_gpu_memory",
    "format_bytes",
    "min_loads",
    "parse_memory_size",
    "plan_from_settings",
    "plan_memory",
    "plan_summary",
    "resolve_gpu_budget",
]
