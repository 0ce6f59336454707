"""The fewest model loads a request sequence needs, had it been known in advance.

In: the models of a workload's requests in arrival order, a predicate saying which sets of
models fit in memory together (``MemoryPlan.can_coreside``) and what is resident at the
start. Out: the minimum number of loads (``min_loads``) — the benchmark's lower bound.

It is Belady's offline optimum generalised to models of different sizes, computed exactly:
a dynamic programme over the sets of models that can be resident together. A request for a
resident model costs nothing; one for another model costs a load, after which any set that
fits, holds that model and is drawn from what was resident plus it, may stay. Keeping more
never hurts (a superset state can mirror every move of its subset), so only the largest
such sets are followed. Pure.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence

from zero_llm.errors import InvalidRequestError

__all__ = ["min_loads"]

_MAX_MODELS = 16


def min_loads(
    requests: Sequence[str],
    can_coreside: Callable[[Iterable[str]], bool],
    initial_resident: Iterable[str] = (),
) -> int:
    """The minimum number of loads serving ``requests`` in order (see module docstring).

    Raises:
        InvalidRequestError: more than 16 distinct models, or a start set that cannot fit.
    """
    models = sorted(set(requests) | set(initial_resident))
    if len(models) > _MAX_MODELS:
        raise InvalidRequestError(f"min_loads handles at most {_MAX_MODELS} models, got {models}")
    start = frozenset(initial_resident)
    if not can_coreside(start):
        raise InvalidRequestError(f"the initial resident set {sorted(start)} does not fit")
    maximal_after_load: dict[tuple[frozenset[str], str], list[frozenset[str]]] = {}

    def after_load(state: frozenset[str], model: str) -> list[frozenset[str]]:
        """The largest sets that fit, hold ``model`` and come from ``state`` plus it."""
        key = (state, model)
        if key not in maximal_after_load:
            rest = sorted(state - {model})
            found: list[frozenset[str]] = []
            for size in range(len(rest), -1, -1):
                for combo in itertools.combinations(rest, size):
                    option = frozenset((*combo, model))
                    if any(option <= bigger for bigger in found):
                        continue
                    if can_coreside(option):
                        found.append(option)
            maximal_after_load[key] = found
        return maximal_after_load[key]

    costs: dict[frozenset[str], int] = {start: 0}
    for model in requests:
        following: dict[frozenset[str], int] = {}
        for state, cost in costs.items():
            if model in state:
                options, step = [state], 0
            else:
                options, step = after_load(state, model), 1
            for option in options:
                if cost + step < following.get(option, cost + step + 1):
                    following[option] = cost + step
        costs = following
    return min(costs.values())
