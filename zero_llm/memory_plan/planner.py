"""The memory plan: one fixed ``num_ctx`` per model, and which models can stay resident together.

In: per model its ``ModelFacts`` (weights, own context length, KV elements per token), its
role and its spec's ``context_window`` cap; the GPU memory budget in bytes (None: unknown,
treated as unlimited); Ollama's ``num_parallel`` and KV cache type; the configured
``context_window`` and ``num_ctx_memory_cap``; the priority model (the quick / default role).
Out: a ``MemoryPlan``: per model ``num_ctx``, weights / KV / total bytes, fits or offloads, a
``why`` sentence and a warning when part of it would run on the CPU; and the maximal sets
of models that fit in memory together. Pure: no I/O, no clock.

Footprint of a model at ``num_ctx`` (what Ollama's ``/api/ps`` calls ``size``)::

    weights (the file size) + overhead (compute graph, CUDA context; 512 MiB by default)
    + KV cache = kv_elements_per_token x bytes_per_element x num_ctx x num_parallel

with bytes per element as Ollama's ``kvCacheBytesPerElement``: f16 2, q8_0 1, q4_0 0.5
(Ollama uses a quantized cache only with flash attention on; otherwise it is f16).

Policy:

1. Caps. A model's ``num_ctx`` never exceeds the smallest of its own context length, the
   configured ``context_window``, its spec's ``context_window`` and ``num_ctx_memory_cap``;
   it is a multiple of ``step`` (2048) unless the cap itself is smaller. With no budget,
   every model gets its cap (zero_llm's behaviour without a plan) and all fit together.
2. Fit alone first. A model is planned to offload (part of it on the CPU) only when it does
   not fit alone even at the smallest ``num_ctx`` (one ``step``): a smaller window always
   wins over a silent CPU split. The ``floor`` (8192) is not forced on a model that only
   fits alone below it; its ``why`` says so.
3. Groups at the floor. The priority model (the quick one) is placed first; each other
   model, in catalog order, joins the first group it fits in with every member at its
   floor (at most ``max_loaded_models`` members, Ollama's OLLAMA_MAX_LOADED_MODELS), else
   starts a new group with the priority model if the two fit together at their floors,
   else stays alone. So the quick model stays resident beside a 32B model whenever both fit
   at 8192 tokens, and two 32B models share a group only when they fit together with it.
4. The priority model's one ``num_ctx``: the largest value up to ``quick_num_ctx`` (32768)
   with which every model grouped with it still gets at least as large a window as the
   quick model (or its own cap), else its floor. A quick model in no group gets the
   largest window that fits alone.
5. The others fill what is left: in each group, the models other than the priority model
   grow one step at a time, the smallest window first, while the group still fits.
   A model alone gets the largest window that fits alone.

The plan then lists every maximal set of models that fits at the planned windows, so the
scheduler knows which loads evict what.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from zero_llm.errors import ConfigurationError
from zero_llm.memory_plan.facts import ModelFacts
from zero_llm.memory_plan.sizes import format_bytes

__all__ = [
    "KV_BYTES_PER_ELEMENT",
    "MemoryPlan",
    "ModelDemand",
    "ModelPlan",
    "PlanPolicy",
    "plan_memory",
]

KV_BYTES_PER_ELEMENT: Mapping[str, float] = {"f16": 2.0, "q8_0": 1.0, "q4_0": 0.5}
"""Bytes one KV-cache element takes per OLLAMA_KV_CACHE_TYPE (Ollama's own factors)."""

_MiB = 1024**2


@dataclass(frozen=True)
class ModelDemand:
    """One model to plan for: its facts, its role, and its spec's own window cap."""

    facts: ModelFacts
    """Weights, own context length, KV cost per token."""
    role: str | None = None
    """The catalog role it serves (shown in the plan)."""
    context_window: int | None = None
    """The spec's ``context_window`` cap, if it has one."""


@dataclass(frozen=True)
class PlanPolicy:
    """The planner's knobs; the defaults are the documented policy."""

    floor: int = 8192
    """No model is shrunk below this many tokens to share memory (unless its cap is lower)."""
    step: int = 2048
    """``num_ctx`` values are multiples of this."""
    quick_num_ctx: int = 32768
    """The window the priority model aims for when it shares memory with larger models."""
    overhead_bytes: int = 512 * _MiB
    """Fixed memory per loaded model beyond weights and KV (compute graph, CUDA context)."""
    max_loaded_models: int = 3
    """At most this many models resident at once (OLLAMA_MAX_LOADED_MODELS)."""

    def __post_init__(self) -> None:
        """Reject knobs that cannot work."""
        for name in ("floor", "step", "quick_num_ctx", "max_loaded_models"):
            if getattr(self, name) < 1:
                raise ConfigurationError(f"memory plan {name} must be at least 1")
        if self.overhead_bytes < 0:
            raise ConfigurationError("memory plan overhead_bytes cannot be negative")


@dataclass(frozen=True)
class ModelPlan:
    """The plan for one model."""

    name: str
    """Ollama model name."""
    role: str | None
    """Catalog role, if any."""
    num_ctx: int
    """The one ``num_ctx`` every request to this model uses."""
    weights_bytes: int
    """Memory of the weights."""
    kv_bytes: int
    """Memory of the KV cache at ``num_ctx`` (times ``num_parallel``)."""
    overhead_bytes: int
    """Fixed extra memory (compute graph, CUDA context)."""
    fits: bool
    """False: it does not fit the GPU even alone; Ollama puts part of it on the CPU."""
    why: str
    """One sentence saying why this ``num_ctx``."""
    warning: str | None = None
    """A warning to show in the CLI and logs (offloading, estimated sizes), if any."""
    estimated: bool = False
    """The KV cost is a guess (``model_info`` lacked the attention facts)."""

    @property
    def total_bytes(self) -> int:
        """Weights + KV cache + overhead: what ``/api/ps`` should show as ``size``."""
        return self.weights_bytes + self.kv_bytes + self.overhead_bytes

    @property
    def placement(self) -> str:
        """``"fits"`` (all on the GPU) or ``"offloads"`` (partly on the CPU)."""
        return "fits" if self.fits else "offloads"


@dataclass(frozen=True)
class MemoryPlan:
    """Every model's ``num_ctx`` and footprint, and which models fit in memory together."""

    models: tuple[ModelPlan, ...]
    """One plan per model, in catalog order."""
    budget: int | None
    """GPU memory in bytes; None: unknown, planned as unlimited."""
    priority: str | None
    """The model kept resident beside the others when possible (the quick one)."""
    resident_sets: tuple[frozenset[str], ...]
    """Every maximal set of models that fits in memory together at the planned windows."""
    kv_cache_type: str = "f16"
    """OLLAMA_KV_CACHE_TYPE the plan assumed."""
    num_parallel: int = 1
    """OLLAMA_NUM_PARALLEL the plan assumed."""
    _by_name: dict[str, ModelPlan] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Index the models by name."""
        object.__setattr__(self, "_by_name", {m.name: m for m in self.models})

    def get(self, name: str) -> ModelPlan | None:
        """The plan of one model, or None when the model was not planned."""
        return self._by_name.get(name)

    def num_ctx_for(self, name: str) -> int | None:
        """The planned ``num_ctx`` of a model, or None when it was not planned."""
        plan = self._by_name.get(name)
        return plan.num_ctx if plan else None

    def can_coreside(self, names: Iterable[str]) -> bool:
        """Whether these models fit in memory together (models not in the plan are ignored)."""
        known = {n for n in names if n in self._by_name}
        if len(known) <= 1:
            return True
        return any(known <= group for group in self.resident_sets)

    def companions(self, name: str) -> tuple[str, ...]:
        """The models that can stay resident beside ``name``, in catalog order."""
        return tuple(
            m.name for m in self.models if m.name != name and self.can_coreside({name, m.name})
        )

    @property
    def warnings(self) -> tuple[str, ...]:
        """Every model's warning, in catalog order."""
        return tuple(m.warning for m in self.models if m.warning)

    def coresidency_lines(self) -> list[str]:
        """Sentences on co-residency, e.g. "llama3.1:8b at 32768 can stay beside ..."."""
        room = f"in {format_bytes(self.budget)}" if self.budget else "(no memory limit known)"
        lines: list[str] = []
        for group in self.resident_sets:
            members = [m for m in self.models if m.name in group]
            if len(members) < 2:
                continue
            said = [f"{m.name} at {m.num_ctx}" for m in members]
            total = sum(m.total_bytes for m in members)
            lines.append(
                f"{', '.join(said[:-1])} can stay beside {said[-1]} {room} "
                f"({format_bytes(total)} together)"
            )
        for a, b in itertools.combinations(self.models, 2):
            if not self.can_coreside({a.name, b.name}):
                lines.append(f"{a.name} and {b.name} never fit together {room}")
        return lines


def plan_memory(
    models: Sequence[ModelDemand],
    *,
    budget: int | None,
    context_window: int = 131072,
    memory_cap: int | None = None,
    num_parallel: int = 1,
    kv_cache_type: str = "f16",
    priority: str | None = None,
    policy: PlanPolicy | None = None,
) -> MemoryPlan:
    """Plan every model's ``num_ctx`` and co-residency (the policy is in the module docstring).

    Raises:
        ConfigurationError: an unknown KV cache type, a non-positive budget, window or
            ``num_parallel``, or two demands for the same model.
    """
    policy = policy or PlanPolicy()
    if kv_cache_type not in KV_BYTES_PER_ELEMENT:
        raise ConfigurationError(
            f"kv_cache_type {kv_cache_type!r} is not one of {', '.join(KV_BYTES_PER_ELEMENT)}"
        )
    if budget is not None and budget <= 0:
        raise ConfigurationError(f"gpu memory budget {budget!r} must be a positive byte count")
    if num_parallel < 1 or context_window < 1 or (memory_cap is not None and memory_cap < 1):
        raise ConfigurationError("num_parallel, context_window and num_ctx_memory_cap must be >= 1")
    names = [d.facts.name for d in models]
    if len(set(names)) != len(names):
        raise ConfigurationError(f"the memory plan got a model twice: {names}")
    planner = _Planner(
        models, budget, context_window, memory_cap, num_parallel, kv_cache_type, priority, policy
    )
    return planner.plan()


class _Planner:
    """The working state of one ``plan_memory`` call."""

    def __init__(
        self,
        models: Sequence[ModelDemand],
        budget: int | None,
        context_window: int,
        memory_cap: int | None,
        num_parallel: int,
        kv_cache_type: str,
        priority: str | None,
        policy: PlanPolicy,
    ) -> None:
        self.demands = {d.facts.name: d for d in models}
        self.order = [d.facts.name for d in models]
        self.budget = budget
        self.num_parallel = num_parallel
        self.kv_cache_type = kv_cache_type
        self.bpe = KV_BYTES_PER_ELEMENT[kv_cache_type]
        self.policy = policy
        self.priority = priority if priority in self.demands else None
        self.caps: dict[str, int] = {}
        self.cap_reason: dict[str, str] = {}
        for name, demand in self.demands.items():
            limits = [(context_window, "the configured context_window")]
            if demand.facts.context_length:
                limits.append((demand.facts.context_length, "its own context length"))
            if demand.context_window:
                limits.append((demand.context_window, "its spec's context_window"))
            if memory_cap:
                limits.append((memory_cap, "num_ctx_memory_cap"))
            cap, reason = min(limits, key=lambda item: item[0])
            self.caps[name] = self._round(cap, cap)
            self.cap_reason[name] = f"{reason} {cap}"

    # -- arithmetic ------------------------------------------------------------------------

    def _round(self, n: int, cap: int) -> int:
        """``n`` rounded down to a step multiple, or ``cap`` itself when below one step."""
        step = self.policy.step
        return (n // step) * step if cap >= step else cap

    def floor_of(self, name: str) -> int:
        """The floor of a model: the policy's floor unless its cap is lower."""
        return min(self.policy.floor, self.caps[name])

    def cost(self, name: str, num_ctx: int) -> int:
        """Total bytes of a model at ``num_ctx``."""
        facts = self.demands[name].facts
        kv = facts.kv_bytes(num_ctx, bytes_per_element=self.bpe, num_parallel=self.num_parallel)
        return facts.weights_bytes + self.policy.overhead_bytes + kv

    def largest_fit(self, name: str, room: int, upto: int | None = None) -> int | None:
        """The largest allowed ``num_ctx`` (at most ``upto``) whose cost fits ``room``."""
        cap = self.caps[name] if upto is None else min(upto, self.caps[name])
        fixed = self.cost(name, 0)
        if fixed > room:
            return None
        facts = self.demands[name].facts
        per_token = facts.kv_elements_per_token * self.bpe * self.num_parallel
        n = cap if per_token == 0 else min(cap, int((room - fixed) / per_token))
        n = self._round(n, self.caps[name]) if n < cap else cap
        while n > 0 and self.cost(name, n) > room:  # float rounding at the edge
            n -= self.policy.step
        smallest = min(self.policy.step, self.caps[name])
        return n if n >= smallest else None

    def fits(self, sizes: Mapping[str, int]) -> bool:
        """Whether these models at these windows fit the budget together."""
        if len(sizes) > self.policy.max_loaded_models:
            return False
        assert self.budget is not None
        return sum(self.cost(n, c) for n, c in sizes.items()) <= self.budget

    # -- the policy ------------------------------------------------------------------------

    def plan(self) -> MemoryPlan:
        """Run the policy and build the plan."""
        if self.budget is None:
            return self._build(
                dict(self.caps),
                {
                    n: "no GPU memory budget known: the largest window allowed, capped by "
                    f"{self.cap_reason[n]}"
                    for n in self.order
                },
                set(),
            )
        budget = self.budget
        alone: dict[str, int] = {}
        offloads: set[str] = set()
        for name in self.order:
            fit = self.largest_fit(name, budget)
            if fit is None:
                offloads.add(name)
            else:
                alone[name] = fit
        q = self.priority if self.priority in alone else None
        q_groups, other_groups = self._groups(alone, q)
        sizes: dict[str, int] = {n: self.floor_of(n) for n in offloads}
        whys: dict[str, str] = {}
        room = format_bytes(budget)
        for name in offloads:
            whys[name] = (
                f"does not fit in {room} even alone at {min(self.policy.step, self.caps[name])} "
                "tokens; planned at its floor, partly on the CPU"
            )
        if q is not None:
            if q_groups:
                sizes[q] = self._choose_priority_ctx(q, q_groups)
                beside = sorted({m for g in q_groups for m in g if m != q}, key=self.order.index)
                whys[q] = (
                    f"kept resident beside {', '.join(beside)}: the largest window up to "
                    f"{self.policy.quick_num_ctx} that leaves them at least as much"
                )
            else:
                sizes[q] = alone[q]
                whys[q] = self._alone_why(q, alone[q], room, shares=False)
            for group in q_groups:
                sizes.update(self._fill(group, {q: sizes[q]}))
                for member in group:
                    if member != q:
                        whys[member] = (
                            f"the largest window that fits beside {q} at {sizes[q]} in {room}"
                            + self._capped(member, sizes[member])
                        )
        for group in other_groups:
            if len(group) == 1:
                name = group[0]
                sizes[name] = alone[name]
                whys[name] = self._alone_why(name, alone[name], room, shares=q is not None)
            else:
                sizes.update(self._fill(group, {}))
                for member in group:
                    others = ", ".join(m for m in group if m != member)
                    whys[member] = (
                        f"shares {room} with {others}: windows grown evenly while they fit"
                        + self._capped(member, sizes[member])
                    )
        return self._build(sizes, whys, offloads)

    def _capped(self, name: str, num_ctx: int) -> str:
        """The " (capped by ...)" note when the cap, not memory, bounded the window."""
        return f" (capped by {self.cap_reason[name]})" if num_ctx >= self.caps[name] else ""

    def _alone_why(self, name: str, num_ctx: int, room: str, *, shares: bool) -> str:
        """Why a model that shares memory with nobody got its window."""
        if num_ctx >= self.caps[name]:
            text = f"fits alone in {room} at its cap, {self.cap_reason[name]}"
        else:
            text = f"the largest window that fits alone in {room}"
        if num_ctx < self.floor_of(name):
            text += f", below the {self.policy.floor}-token floor"
        if shares and self.priority and name != self.priority:
            text += f"; cannot stay beside {self.priority} even at {self.policy.floor} tokens each"
        return text

    def _groups(
        self, alone: Mapping[str, int], q: str | None
    ) -> tuple[list[list[str]], list[list[str]]]:
        """Step 3: groups with the priority model, and groups without it."""
        q_groups: list[list[str]] = []
        other_groups: list[list[str]] = []
        closed: set[int] = set()
        floors = {n: self.floor_of(n) for n in alone}
        q_ok = q is not None and alone[q] >= floors[q]
        for name in self.order:
            if name not in alone or name == q:
                continue
            if alone[name] < floors[name]:
                other_groups.append([name])
                closed.add(id(other_groups[-1]))
                continue
            candidates = q_groups + [g for g in other_groups if id(g) not in closed]
            target = next(
                (g for g in candidates if self.fits({m: floors[m] for m in [*g, name]})), None
            )
            if target is not None:
                target.append(name)
            elif q_ok and q is not None and self.fits({q: floors[q], name: floors[name]}):
                q_groups.append([q, name])
            else:
                other_groups.append([name])
        return q_groups, other_groups

    def _fill(self, group: Sequence[str], fixed: Mapping[str, int]) -> dict[str, int]:
        """Step 5: grow the free members of a group evenly while it fits."""
        sizes = {m: fixed.get(m, self.floor_of(m)) for m in group}
        free = [m for m in group if m not in fixed]
        while True:
            growable = []
            for m in free:
                if sizes[m] >= self.caps[m]:
                    continue
                bigger = min(sizes[m] + self.policy.step, self.caps[m])
                if self.fits({**sizes, m: bigger}):
                    growable.append((sizes[m], self.order.index(m), m, bigger))
            if not growable:
                return sizes
            _, _, m, bigger = min(growable)
            sizes[m] = bigger

    def _choose_priority_ctx(self, q: str, q_groups: Sequence[Sequence[str]]) -> int:
        """Step 4: the priority model's window."""
        floor = self.floor_of(q)
        top = max(floor, min(self.policy.quick_num_ctx, self.caps[q]))
        n = self._round(top, self.caps[q]) if top < self.caps[q] else top
        while n > floor:
            fine = True
            for group in q_groups:
                if not self.fits({m: (n if m == q else self.floor_of(m)) for m in group}):
                    fine = False
                    break
                filled = self._fill(group, {q: n})
                if any(filled[m] < min(n, self.caps[m]) for m in group if m != q):
                    fine = False
                    break
            if fine:
                return n
            n -= self.policy.step
        return floor

    def _build(
        self, sizes: Mapping[str, int], whys: Mapping[str, str], offloads: set[str]
    ) -> MemoryPlan:
        """Turn the chosen windows into the plan, with its maximal resident sets."""
        plans: list[ModelPlan] = []
        for name in self.order:
            demand = self.demands[name]
            facts = demand.facts
            num_ctx = sizes[name]
            warning = None
            if name in offloads:
                warning = (
                    f"{name} does not fit in {format_bytes(self.budget)} of GPU memory even "
                    f"alone ({format_bytes(self.cost(name, num_ctx))} at num_ctx {num_ctx}): "
                    "Ollama will run part of it on the CPU, many times slower"
                )
            elif facts.estimated:
                warning = (
                    f"{name}: /api/show gave no attention facts (block_count, head_count_kv); "
                    "its KV cache size is estimated from its parameter count"
                )
            plans.append(
                ModelPlan(
                    name=name,
                    role=demand.role,
                    num_ctx=num_ctx,
                    weights_bytes=facts.weights_bytes,
                    kv_bytes=facts.kv_bytes(
                        num_ctx, bytes_per_element=self.bpe, num_parallel=self.num_parallel
                    ),
                    overhead_bytes=self.policy.overhead_bytes,
                    fits=name not in offloads,
                    why=whys[name],
                    warning=warning,
                    estimated=facts.estimated,
                )
            )
        return MemoryPlan(
            models=tuple(plans),
            budget=self.budget,
            priority=self.priority,
            resident_sets=self._resident_sets(sizes, offloads),
            kv_cache_type=self.kv_cache_type,
            num_parallel=self.num_parallel,
        )

    def _resident_sets(
        self, sizes: Mapping[str, int], offloads: set[str]
    ) -> tuple[frozenset[str], ...]:
        """Every maximal set of models that fits together (an offloading model: alone)."""
        fitting = [n for n in self.order if n not in offloads]
        found: list[frozenset[str]] = []
        for size in range(min(len(fitting), self.policy.max_loaded_models), 0, -1):
            for combo in itertools.combinations(fitting, size):
                group = frozenset(combo)
                if any(group <= bigger for bigger in found):
                    continue
                if self.budget is None or self.fits({m: sizes[m] for m in combo}):
                    found.append(group)
        found.extend(frozenset({n}) for n in self.order if n in offloads)
        return tuple(found)
