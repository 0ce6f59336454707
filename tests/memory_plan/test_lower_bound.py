"""The offline lower bound on loads, against brute force and the plans of real budgets."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterable

import pytest

from tests.memory_plan.test_planner import plan
from zero_llm.errors import InvalidRequestError
from zero_llm.memory_plan import min_loads

DS, CODER, QUICK = "deepseek-r1:32b", "qwen2.5-coder:32b", "llama3.1:8b"


def brute_force(requests: list[str], fits: set[frozenset[str]]) -> int:
    """Try every choice of what to keep after each load (exponential; small inputs only)."""
    best = len(requests) + 1

    def walk(i: int, state: frozenset[str], loads: int) -> None:
        nonlocal best
        if loads >= best:
            return
        if i == len(requests):
            best = loads
            return
        model = requests[i]
        if model in state:
            walk(i + 1, state, loads)
            return
        for option in fits:
            if model in option and option <= state | {model}:
                walk(i + 1, option, loads + 1)

    walk(0, frozenset(), 0)
    return best


def all_fitting_sets(can: object, models: Iterable[str]) -> set[frozenset[str]]:
    names = list(models)
    return {
        frozenset(c)
        for size in range(1, len(names) + 1)
        for c in itertools.combinations(names, size)
        if can(c)  # type: ignore[operator]
    }


def test_alternating_32b_models_on_24_gib_load_every_switch() -> None:
    can = plan(24).can_coreside
    assert min_loads([DS, CODER, DS, CODER], can) == 4
    assert min_loads([DS, DS, DS, CODER, CODER], can) == 2
    assert min_loads([QUICK, DS, QUICK], can) == 3


def test_on_48_gib_the_quick_model_rides_along() -> None:
    can = plan(48).can_coreside
    # quick stays beside whichever 32B model is resident
    assert min_loads([QUICK, DS, QUICK, DS, QUICK], can) == 2
    assert min_loads([DS, QUICK, CODER, QUICK, DS, QUICK], can) == 4
    assert min_loads([QUICK, DS, QUICK], can, initial_resident=[QUICK, DS]) == 0


def test_on_80_gib_each_model_loads_once() -> None:
    can = plan(80).can_coreside
    workload = [DS, CODER, QUICK] * 20
    assert min_loads(workload, can) == 3


def test_foresight_beats_keeping_the_most_recent() -> None:
    # room for two of three equal models: Belady evicts the one needed furthest ahead
    def can(names: Iterable[str]) -> bool:
        return len(set(names)) <= 2

    requests = ["a", "b", "c", "a", "b", "a", "b", "c"]
    assert min_loads(requests, can) == 5  # a, b, c(evict b), b(evict c), c
    assert min_loads(requests, can) == brute_force(requests, all_fitting_sets(can, "abc"))


@pytest.mark.parametrize("budget", [24, 32, 48, 80])
@pytest.mark.parametrize("seed", range(5))
def test_matches_brute_force_on_random_workloads(budget: int, seed: int) -> None:
    rng = random.Random(seed)
    can = plan(budget).can_coreside
    requests = [rng.choice([DS, CODER, QUICK, QUICK]) for _ in range(12)]
    expected = brute_force(requests, all_fitting_sets(can, [DS, CODER, QUICK]))
    assert min_loads(requests, can) == expected


def test_bad_inputs() -> None:
    with pytest.raises(InvalidRequestError, match="does not fit"):
        min_loads([DS], plan(24).can_coreside, initial_resident=[DS, CODER])
    with pytest.raises(InvalidRequestError, match="at most 16"):
        min_loads([f"m{i}" for i in range(17)], lambda names: True)
    assert min_loads([], plan(24).can_coreside) == 0
