"""Measure the routing classifier on a labelled split: accuracy, confusion, misses, cost.

In: a split name (``validation`` by default) and optionally a weights file. Out: an
``Evaluation`` (accuracy overall, per task and per language; the confusion matrix; every
miss; how often the low-confidence default changes the answer; confidence against accuracy
per bin; p50/p99 decision time on prompts a fresh model meets for the first time).
``python -m benchmarks.routing`` prints it; the tests assert on it.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from zero_llm.catalog import DEFAULT_MODELS, Catalog
from zero_llm.routing.classifier import CLASSES, SHIPPED_WEIGHTS, Model, load_model
from zero_llm.routing.dataset import Example, load_split
from zero_llm.routing.features import clear_feature_caches
from zero_llm.routing.router import DEFAULT_CONFIDENCE_THRESHOLD

__all__ = ["CALIBRATION_BINS", "Evaluation", "Miss", "evaluate", "time_decisions"]

CALIBRATION_BINS: tuple[tuple[float, float], ...] = (
    (0.0, 0.6),
    (0.6, 0.8),
    (0.8, 0.9),
    (0.9, 0.97),
    (0.97, 1.01),
)
"""Confidence bins of the calibration table (the last one holds 1.0)."""


@dataclass(frozen=True, slots=True)
class Miss:
    """One prompt the classifier got wrong."""

    text: str
    expected: str
    predicted: str
    confidence: float
    language: str


@dataclass
class Evaluation:
    """The classifier's results on one split."""

    split: str
    total: int = 0
    correct: int = 0
    by_task: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Task -> (correct, total)."""
    by_language: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Language (``en``, ``he``, ``mixed``) -> (correct, total)."""
    confusion: dict[tuple[str, str], int] = field(default_factory=dict)
    """(expected, predicted) -> count."""
    by_part: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)
    """Writer's folder (``-`` for the split's own files) -> ``all``, each task and each language
    -> (correct, total): the parts of a split written apart (``validation_hard/blind2``)."""
    misses: list[Miss] = field(default_factory=list)
    low_confidence: int = 0
    """Prompts below the confidence threshold (routed to the default role)."""
    routed_correct: int = 0
    """Correct after the low-confidence default (what a fresh request really gets)."""
    p50_us: float = 0.0
    """Median microseconds per decision on an unseen prompt (each prompt's median of rounds)."""
    p99_us: float = 0.0
    """99th percentile of the same per-prompt costs."""
    raw_p99_us: float = 0.0
    """99th percentile of every single timing, the machine's noise included."""
    calibration: list[tuple[float, float, int, float, float]] = field(default_factory=list)
    """Per confidence bin (low, high, prompts, mean confidence, accuracy), for bins not empty."""

    @property
    def calibration_error(self) -> float:
        """Expected calibration error: mean |confidence - accuracy| over bins, by prompt count."""
        if not self.total:
            return 0.0
        return sum(n * abs(conf - acc) for _, _, n, conf, acc in self.calibration) / self.total

    @property
    def accuracy(self) -> float:
        """Share of prompts classified right."""
        return self.correct / self.total if self.total else 0.0

    def rate(self, table: dict[str, tuple[int, int]], key: str) -> float:
        """Accuracy of one row of ``by_task`` or ``by_language``."""
        right, count = table[key]
        return right / count if count else 0.0


def time_decisions(weights: Path, texts: list[str], rounds: int = 5) -> tuple[float, float, float]:
    """p50 and p99 microseconds per decision on ``texts`` seen for the first time, and the raw p99.

    Each round clears the feature caches and builds a fresh model from ``weights``, as a new
    process has it (it knows the words of its training prompts, no others), then times each
    of ``texts`` once. A prompt's cost is its median over the rounds, which keeps the
    machine's scheduling noise out of the tail; the raw p99 is over every single timing.
    """
    data = json.loads(weights.read_text(encoding="utf-8"))
    per_text: list[list[float]] = [[] for _ in texts]
    clock = time.perf_counter
    for _ in range(rounds):
        clear_feature_caches()
        model = Model(data)
        for i, text in enumerate(texts):
            start = clock()
            model.predict(text)
            per_text[i].append((clock() - start) * 1e6)
    costs = sorted(statistics.median(samples) for samples in per_text)
    raw = sorted(sample for samples in per_text for sample in samples)
    return statistics.median(costs), _percentile(costs, 0.99), _percentile(raw, 0.99)


def _percentile(sorted_values: list[float], share: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * share))]


def evaluate(
    split: str = "validation",
    *,
    weights: Path | None = None,
    threshold: float = DEFAULT_CONFIDENCE_THRESHOLD,
    examples: list[Example] | None = None,
) -> Evaluation:
    """Classify every prompt of ``split`` and tally the results."""
    model = load_model(weights) if weights else load_model()
    catalog = Catalog(DEFAULT_MODELS, "quick")
    rows = examples if examples is not None else load_split(split)
    result = Evaluation(split)
    tasks: Counter[str] = Counter()
    tasks_right: Counter[str] = Counter()
    langs: Counter[str] = Counter()
    langs_right: Counter[str] = Counter()
    confusion: Counter[tuple[str, str]] = Counter()
    binned: list[list[tuple[float, bool]]] = [[] for _ in CALIBRATION_BINS]
    parts: dict[str, Counter[str]] = {}
    parts_right: dict[str, Counter[str]] = {}
    for example in rows:
        prediction = model.predict(example.text)
        right = prediction.label == example.task
        result.total += 1
        result.correct += right
        tasks[example.task] += 1
        tasks_right[example.task] += right
        langs[example.language] += 1
        langs_right[example.language] += right
        confusion[(example.task, prediction.label)] += 1
        part = example.source or "-"
        for key in ("all", example.task, example.language):
            parts.setdefault(part, Counter())[key] += 1
            parts_right.setdefault(part, Counter())[key] += right
        for k, (low, high) in enumerate(CALIBRATION_BINS):
            if low <= prediction.confidence < high:
                binned[k].append((prediction.confidence, right))
        if prediction.confidence < threshold:
            result.low_confidence += 1
            routed = catalog.role_for_task(example.task) == catalog.default_role
        else:
            routed = right
        result.routed_correct += routed
        if not right:
            result.misses.append(
                Miss(
                    example.text,
                    example.task,
                    prediction.label,
                    prediction.confidence,
                    example.language,
                )
            )
    result.by_task = {t: (tasks_right[t], tasks[t]) for t in CLASSES if tasks[t]}
    result.by_language = {k: (langs_right[k], langs[k]) for k in sorted(langs)}
    result.confusion = dict(confusion)
    result.by_part = {
        part: {key: (parts_right[part][key], count) for key, count in counts.items()}
        for part, counts in sorted(parts.items())
    }
    result.calibration = [
        (
            low,
            min(high, 1.0),
            len(b),
            statistics.fmean(c for c, _ in b),
            statistics.fmean(r for _, r in b),
        )
        for (low, high), b in zip(CALIBRATION_BINS, binned, strict=True)
        if b
    ]
    result.p50_us, result.p99_us, result.raw_p99_us = time_decisions(
        weights or SHIPPED_WEIGHTS, [e.text for e in rows]
    )
    return result
