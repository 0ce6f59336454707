"""The rows ``zero-llm models`` shows for a memory plan.

In: a ``MemoryPlan``. Out: one ``PlanRow`` of display strings per model (weights, KV cache,
total, fits or offloads, co-residency, ``num_ctx`` and why) plus the plan's summary lines.
Pure: rendering (a table, JSON) is the CLI's job.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from zero_llm.memory_plan.planner import MemoryPlan
from zero_llm.memory_plan.sizes import format_bytes

__all__ = ["PLAN_COLUMNS", "PlanRow", "describe_plan", "plan_summary"]


@dataclass(frozen=True)
class PlanRow:
    """One model's line of the plan, as text."""

    model: str
    role: str
    num_ctx: str
    weights: str
    kv_cache: str
    total: str
    placement: str
    co_resident: str
    why: str

    def as_dict(self) -> dict[str, str]:
        """The row as a column -> text mapping (for JSON output)."""
        return asdict(self)


PLAN_COLUMNS: tuple[str, ...] = (
    "model",
    "role",
    "num_ctx",
    "weights",
    "kv_cache",
    "total",
    "placement",
    "co_resident",
    "why",
)
"""Column names of ``PlanRow``, in display order."""


def describe_plan(plan: MemoryPlan) -> list[PlanRow]:
    """One row per planned model, in catalog order."""
    rows = []
    for model in plan.models:
        companions = plan.companions(model.name)
        if not model.fits:
            beside = "none (partly on the CPU)"
        elif companions:
            beside = "beside " + ", ".join(companions)
        else:
            beside = "alone"
        placement = model.placement + (" (estimated)" if model.estimated else "")
        rows.append(
            PlanRow(
                model=model.name,
                role=model.role or "",
                num_ctx=str(model.num_ctx),
                weights=format_bytes(model.weights_bytes),
                kv_cache=format_bytes(model.kv_bytes),
                total=format_bytes(model.total_bytes),
                placement=placement,
                co_resident=beside,
                why=model.why,
            )
        )
    return rows


def plan_summary(plan: MemoryPlan) -> list[str]:
    """Lines to print under the table: budget, cache type, co-residency, warnings."""
    lines = [
        f"GPU memory: {format_bytes(plan.budget)}; KV cache {plan.kv_cache_type}; "
        f"num_parallel {plan.num_parallel}"
    ]
    lines.extend(plan.coresidency_lines())
    lines.extend(f"WARNING: {warning}" for warning in plan.warnings)
    return lines
