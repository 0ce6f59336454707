"""Measure the routing classifier on a labelled split: accuracy, confusion, misses, cost.

In: a split name (``validation`` by default) and optionally a weights file. Out: an
``Evaluation`` (accuracy overall, per task and per language; the confusion matrix; every
miss; how often the low-confidence default changes the answer; p50/p99 decision time on prompts
the model's token cache has not seen, after it has read the training prompts).
``python -m benchmarks.routing`` prints it; the tests assert on it.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from zero_llm.catalog import DEFAULT_MODELS, Catalog
from zero_llm.routing.classifier import CLASSES, SHIPPED_WEIGHTS, Model, load_model
from zero_llm.routing.dataset import Example, load_split
from zero_llm.routing.router import DEFAULT_CONFIDENCE_THRESHOLD

__all__ = ["Evaluation", "Miss", "evaluate", "time_decisions"]


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
    misses: list[Miss] = field(default_factory=list)
    low_confidence: int = 0
    """Prompts below the confidence threshold (routed to the default role)."""
    routed_correct: int = 0
    """Correct after the low-confidence default (what a fresh request really gets)."""
    p50_us: float = 0.0
    p99_us: float = 0.0

    @property
    def accuracy(self) -> float:
        """Share of prompts classified right."""
        return self.correct / self.total if self.total else 0.0

    def rate(self, table: dict[str, tuple[int, int]], key: str) -> float:
        """Accuracy of one row of ``by_task`` or ``by_language``."""
        right, count = table[key]
        return right / count if count else 0.0


def time_decisions(model: Model, texts: list[str], rounds: int = 5) -> tuple[float, float]:
    """p50 and p99 microseconds per classification over ``rounds`` passes of ``texts``."""
    samples: list[float] = []
    clock = time.perf_counter
    for _ in range(rounds):
        for text in texts:
            start = clock()
            model.predict(text)
            samples.append((clock() - start) * 1e6)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]


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
    timed = load_model(weights or SHIPPED_WEIGHTS)  # its own caches, warmed on other prompts
    if split != "train":
        for example in load_split("train"):
            timed.predict(example.text)
    result.p50_us, result.p99_us = time_decisions(timed, [e.text for e in rows], rounds=1)
    return result
