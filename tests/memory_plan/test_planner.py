"""The memory planner: num_ctx per model and co-residency, on budgets ZERO meets."""

from __future__ import annotations

import itertools

import pytest

from tests.memory_plan.models import CODER, DEEPSEEK, LLAMA, zero_demands
from zero_llm.errors import ConfigurationError
from zero_llm.memory_plan import (
    MemoryPlan,
    ModelDemand,
    ModelFacts,
    PlanPolicy,
    describe_plan,
    plan_from_settings,
    plan_memory,
    plan_summary,
)
from zero_llm.settings import load_settings

GiB = 1024**3
QUICK = "llama3.1:8b"
BPE = {"f16": 2.0, "q8_0": 1.0, "q4_0": 0.5}


def plan(budget_gib: float | None, **kwargs: object) -> MemoryPlan:
    budget = None if budget_gib is None else int(budget_gib * GiB)
    return plan_memory(zero_demands(), budget=budget, priority=QUICK, **kwargs)  # type: ignore[arg-type]


def cost(facts: ModelFacts, num_ctx: int, kv: str = "f16", parallel: int = 1) -> int:
    overhead = PlanPolicy().overhead_bytes
    kv_bytes = facts.kv_bytes(num_ctx, bytes_per_element=BPE[kv], num_parallel=parallel)
    return facts.weights_bytes + overhead + kv_bytes


def test_unlimited_budget_keeps_todays_windows() -> None:
    result = plan(None)
    assert [m.num_ctx for m in result.models] == [131072, 32768, 131072]
    assert all(m.fits and m.warning is None for m in result.models)
    assert result.can_coreside({DEEPSEEK.name, CODER.name, QUICK})
    assert "its own context length 32768" in result.get(CODER.name).why  # type: ignore[union-attr]


def test_caps_from_settings_spec_and_memory_cap() -> None:
    demands = [ModelDemand(DEEPSEEK, "reasoning", context_window=50000), ModelDemand(LLAMA)]
    result = plan_memory(demands, budget=None, context_window=65536, memory_cap=40000)
    assert result.num_ctx_for(DEEPSEEK.name) == 38912  # 40000 down to a 2048 multiple
    assert result.num_ctx_for(LLAMA.name) == 38912
    assert "num_ctx_memory_cap 40000" in result.models[0].why
    tiny = ModelFacts("tiny", 10**6, 1000, 100)
    assert plan_memory([ModelDemand(tiny)], budget=GiB).num_ctx_for("tiny") == 1000


def test_24_gib_every_model_fits_alone_at_its_largest_window() -> None:
    result = plan(24)
    budget = 24 * GiB
    for model, facts in zip(result.models, (DEEPSEEK, CODER, LLAMA), strict=True):
        assert model.fits and model.warning is None
        assert model.total_bytes == cost(facts, model.num_ctx) <= budget
        if model.num_ctx < min(131072, facts.context_length or 131072):
            assert cost(facts, model.num_ctx + 2048) > budget  # the largest that fits
    assert result.num_ctx_for(DEEPSEEK.name) == 20480
    assert result.num_ctx_for(CODER.name) == 20480
    # 4.6 GiB of weights beside 18.5 GiB: the quick model never fits beside a 32B one
    assert not result.can_coreside({QUICK, CODER.name})
    assert result.companions(DEEPSEEK.name) == ()
    assert "cannot stay beside llama3.1:8b even at 8192" in result.models[0].why
    lines = result.coresidency_lines()
    assert "deepseek-r1:32b and qwen2.5-coder:32b never fit together in 24.0 GiB" in lines


def test_48_gib_quick_model_stays_beside_each_32b() -> None:
    result = plan(48)
    budget = 48 * GiB
    assert result.num_ctx_for(QUICK) == 32768
    for big in (DEEPSEEK, CODER):
        assert result.can_coreside({QUICK, big.name})
        n = result.num_ctx_for(big.name)
        assert n is not None
        assert cost(LLAMA, 32768) + cost(big, n) <= budget
        if n < (big.context_length or 0):
            assert cost(LLAMA, 32768) + cost(big, n + 2048) > budget
    assert result.num_ctx_for(CODER.name) == 32768  # capped by its own length
    assert result.num_ctx_for(DEEPSEEK.name) == 79872
    assert not result.can_coreside({DEEPSEEK.name, CODER.name})
    lines = result.coresidency_lines()
    assert any(
        line.startswith("deepseek-r1:32b at 79872 can stay beside llama3.1:8b at 32768")
        for line in lines
    )
    assert "deepseek-r1:32b and qwen2.5-coder:32b never fit together in 48.0 GiB" in lines
    assert "beside llama3.1:8b at 32768" in result.models[0].why


def test_tight_pair_shrinks_the_quick_model_before_the_32b() -> None:
    result = plan(32)
    quick = result.num_ctx_for(QUICK)
    for big in (DEEPSEEK.name, CODER.name):
        n = result.num_ctx_for(big)
        assert n is not None and quick is not None
        assert result.can_coreside({QUICK, big})
        assert n >= quick  # the quick model never takes a bigger window than its neighbour
    assert quick is not None and 8192 <= quick < 32768


def test_80_gib_all_three_stay_resident_together() -> None:
    result = plan(80)
    assert result.can_coreside({DEEPSEEK.name, CODER.name, QUICK})
    assert result.resident_sets == (frozenset({DEEPSEEK.name, CODER.name, QUICK}),)
    total = sum(m.total_bytes for m in result.models)
    assert total <= 80 * GiB
    assert total + DEEPSEEK.kv_bytes(2048, bytes_per_element=2) > 80 * GiB
    assert result.num_ctx_for(DEEPSEEK.name) == 100352
    only_two = plan(80, policy=PlanPolicy(max_loaded_models=2))
    assert not only_two.can_coreside({DEEPSEEK.name, CODER.name, QUICK})
    assert only_two.can_coreside({DEEPSEEK.name, QUICK})


def test_too_small_a_gpu_flags_offloading_with_a_clear_warning() -> None:
    result = plan(16)
    deepseek = result.get(DEEPSEEK.name)
    assert deepseek is not None and not deepseek.fits and deepseek.placement == "offloads"
    assert deepseek.num_ctx == 8192
    assert deepseek.warning is not None
    assert "does not fit in 16.0 GiB of GPU memory even alone" in deepseek.warning
    assert "part of it on the CPU" in deepseek.warning
    quick = result.get(QUICK)
    assert quick is not None and quick.fits and quick.total_bytes <= 16 * GiB
    assert len(result.warnings) == 2
    assert result.can_coreside({DEEPSEEK.name})  # it still loads, alone
    assert not result.can_coreside({DEEPSEEK.name, QUICK})


def test_a_model_that_only_fits_below_the_floor_fits_rather_than_offloads() -> None:
    budget = cost(CODER, 4096) + 1000
    result = plan_memory([ModelDemand(CODER)], budget=budget)
    model = result.models[0]
    assert model.fits and model.num_ctx == 4096
    assert "below the 8192-token floor" in model.why


@pytest.mark.parametrize("kv", ["f16", "q8_0", "q4_0"])
@pytest.mark.parametrize("parallel", [1, 2, 4])
def test_invariants_over_budgets(kv: str, parallel: int) -> None:
    facts = {"deepseek-r1:32b": DEEPSEEK, "qwen2.5-coder:32b": CODER, QUICK: LLAMA}
    for budget_gib in range(8, 100, 4):
        budget = budget_gib * GiB
        result = plan(budget_gib, kv_cache_type=kv, num_parallel=parallel)
        for model in result.models:
            f = facts[model.name]
            assert model.num_ctx % 2048 == 0
            assert model.num_ctx <= min(131072, f.context_length or 131072)
            assert model.total_bytes == cost(f, model.num_ctx, kv, parallel)
            if model.fits:
                assert model.total_bytes <= budget
            else:  # never planned to offload when a smaller window would fit
                assert cost(f, 2048, kv, parallel) > budget
        for group in result.resident_sets:
            if len(group) > 1:
                assert sum(result.get(n).total_bytes for n in group) <= budget  # type: ignore[union-attr]
        for big in (DEEPSEEK, CODER):
            floors_fit = cost(LLAMA, 8192, kv, parallel) + cost(big, 8192, kv, parallel) <= budget
            if floors_fit:  # the quick model stays beside each 32B whenever possible
                assert result.can_coreside({QUICK, big.name}), (budget_gib, kv, parallel)


def test_bad_inputs_are_named() -> None:
    with pytest.raises(ConfigurationError, match="'q5_1'"):
        plan(24, kv_cache_type="q5_1")
    with pytest.raises(ConfigurationError, match="twice"):
        plan_memory([ModelDemand(LLAMA), ModelDemand(LLAMA)], budget=None)
    with pytest.raises(ConfigurationError, match="budget"):
        plan_memory([ModelDemand(LLAMA)], budget=0)
    with pytest.raises(ConfigurationError, match="step"):
        PlanPolicy(step=0)


def test_plan_from_settings_uses_the_catalog_and_memory_group() -> None:
    settings = load_settings(
        memory={"kv_cache_type": "q8_0", "quick_num_ctx": 16384, "overhead": "256MiB"},
        models={"code": {"context_window": 16384}},
    )
    facts = {f.name: f for f in (DEEPSEEK, CODER, LLAMA)}
    result = plan_from_settings(settings, facts, 48 * GiB)
    assert result.priority == QUICK and result.kv_cache_type == "q8_0"
    assert result.num_ctx_for(QUICK) == 16384
    assert result.num_ctx_for(CODER.name) == 16384
    assert result.models[0].overhead_bytes == 256 * 1024**2
    assert [m.role for m in result.models] == ["reasoning", "code", "quick"]
    partial = plan_from_settings(settings, {LLAMA.name: LLAMA}, None)
    assert [m.name for m in partial.models] == [QUICK]


def test_describe_plan_rows_and_summary() -> None:
    result = plan(48)
    rows = describe_plan(result)
    assert [r.model for r in rows] == ["deepseek-r1:32b", "qwen2.5-coder:32b", QUICK]
    deepseek = rows[0]
    assert deepseek.num_ctx == "79872" and deepseek.placement == "fits"
    assert deepseek.weights == "18.5 GiB" and deepseek.kv_cache == "19.5 GiB"
    assert deepseek.co_resident == "beside llama3.1:8b"
    assert rows[2].co_resident == "beside deepseek-r1:32b, qwen2.5-coder:32b"
    assert set(deepseek.as_dict()) >= {"model", "total", "why", "co_resident"}
    summary = plan_summary(result)
    assert summary[0].startswith("GPU memory: 48.0 GiB; KV cache f16")
    offloading = describe_plan(plan(16))
    assert offloading[0].placement == "offloads"
    assert offloading[0].co_resident == "none (partly on the CPU)"
    warned = plan_summary(plan(16))
    assert any(line.startswith("WARNING: deepseek-r1:32b does not fit") for line in warned)


def test_can_coreside_ignores_unplanned_models() -> None:
    result = plan(24)
    assert result.can_coreside({"nomic-embed-text:latest", CODER.name})
    assert result.num_ctx_for("nomic-embed-text:latest") is None
    assert all(len(s) == 1 for s in result.resident_sets)
    assert len(list(itertools.chain.from_iterable(result.resident_sets))) == 3
