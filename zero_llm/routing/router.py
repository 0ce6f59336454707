"""The routing decision: which model answers a request, and why. Pure, no I/O.

In: the catalog, and an explicit task or the request's text, optionally the role of the
model the conversation is on and the thresholds. Out: a ``RouteDecision``.

Rules, in order:

1. An explicit task always wins (``method="explicit"``, confidence 1.0); the switch table
   (``switch_model``) is this rule alone, so it maps tasks exactly as the catalog says.
2. The local classifier (``zero_llm.routing.classifier``) reads the text and gives a
   calibrated probability per task class.
3. With ``current_role`` (a follow-up in a conversation), the request stays on that role
   unless the classifier is confident (at least ``switch_threshold``) that it is another
   specialised role's work: "now add type hints" or "make it faster" after a code answer
   stay on the code model. A follow-up never leaves for the default role by itself: the
   default class means "no domain evidence", and the loaded model answers small talk well
   enough without a model swap.
4. Without it, a class at least ``threshold`` probable decides; below that the default role
   answers and the reason says "low confidence".

``signals`` holds only the kinds of evidence (``ticker``, ``code-fence``...), safe to store;
``reason`` is for people and may quote the request's words.
"""

from __future__ import annotations

from dataclasses import dataclass

from zero_llm.catalog import Catalog
from zero_llm.errors import InvalidRequestError
from zero_llm.routing.classifier import Prediction, classify
from zero_llm.routing.features import SCAN_LIMIT

__all__ = [
    "DEFAULT_CONFIDENCE_THRESHOLD",
    "DEFAULT_SWITCH_THRESHOLD",
    "SCAN_LIMIT",
    "RouteDecision",
    "classify_text",
    "route",
]

DEFAULT_CONFIDENCE_THRESHOLD = 0.5
"""Below this probability a fresh request goes to the default role."""
DEFAULT_SWITCH_THRESHOLD = 0.8
"""A follow-up leaves its conversation's role only at or above this probability."""


@dataclass(frozen=True, slots=True)
class RouteDecision:
    """Where a request goes and why."""

    task: str
    """The explicit task, or the task class the text was judged to be."""
    role: str
    """The catalog role chosen."""
    model: str
    """The Ollama model of that role."""
    reason: str
    """For people: why, possibly quoting the request's words."""
    confidence: float = 1.0
    """Calibrated probability of the chosen class (1.0 for an explicit task)."""
    method: str = "explicit"
    """``explicit``, ``classifier``, ``sticky`` or ``low-confidence-default``."""
    sticky: bool = False
    """The request stayed on the conversation's current role."""
    low_confidence: bool = False
    """The classifier's best class was below the confidence threshold."""
    signals: tuple[str, ...] = ()
    """Kinds of evidence only (e.g. ``ticker``, ``stack-trace``), never the user's words."""

    @property
    def explicit(self) -> bool:
        """Whether an explicit task decided."""
        return self.method == "explicit"


def classify_text(text: str) -> tuple[str, str]:
    """Pick ``code``, ``analysis`` or ``quick`` for a text; return it with a readable reason."""
    prediction = classify(text)
    return prediction.label, _evidence_text(prediction)


def _evidence_text(prediction: Prediction) -> str:
    cues = ", ".join(prediction.cues) or "no strong cue"
    return f"{prediction.label}: {cues}; confidence {prediction.confidence:.2f}"


def _check_threshold(name: str, value: float | None, default: float) -> float:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise InvalidRequestError(f"{name} must be a probability between 0 and 1, got {value!r}")
    return float(value)


def _task_of(catalog: Catalog, role: str, roles: dict[str, str], prediction: Prediction) -> str:
    """The class that maps to ``role`` (the likeliest one), else the role's first task."""
    classes = [c for c, r in roles.items() if r == role]
    if classes:
        return max(classes, key=prediction.probabilities.__getitem__)
    tasks = catalog.models[role].tasks
    return tasks[0] if tasks else role


def route(
    catalog: Catalog,
    *,
    task: str | None = None,
    text: str = "",
    current_role: str | None = None,
    threshold: float | None = None,
    switch_threshold: float | None = None,
) -> RouteDecision:
    """Decide the model for a request: its explicit task, else its text and conversation.

    Args:
        catalog: the configured models.
        task: an explicit task type; it always wins.
        text: the request's text, read when no task is given.
        current_role: the role (or model name) the conversation is on; a follow-up stays
            on it unless the text is confidently another role's work.
        threshold: minimum probability for the classifier to decide a fresh request
            (default ``DEFAULT_CONFIDENCE_THRESHOLD``).
        switch_threshold: minimum probability for a follow-up to leave ``current_role``
            (default ``DEFAULT_SWITCH_THRESHOLD``).
    """
    if task is not None and task.strip():
        role = catalog.role_for_task(task)
        if role is None:
            role = catalog.default_role
            reason = f"unknown task {task!r}: the default model answers"
        else:
            reason = f"task {task!r} is routed to the {role} model"
        return RouteDecision(task.strip().lower(), role, catalog.models[role].name, reason)

    confidence_threshold = _check_threshold("threshold", threshold, DEFAULT_CONFIDENCE_THRESHOLD)
    switch = _check_threshold("switch_threshold", switch_threshold, DEFAULT_SWITCH_THRESHOLD)
    current = None
    if current_role is not None:
        current = catalog.find_role(current_role)
        if current is None:
            raise InvalidRequestError(
                f"current_role {current_role!r} is not a configured role or model "
                f"(roles: {', '.join(catalog.roles)})"
            )
    prediction = classify(text)
    # Each class's role, looked up once: class -> catalog role (the default role if none).
    roles = {c: catalog.role_for_task(c) or catalog.default_role for c in prediction.probabilities}
    best_role = roles[prediction.label]
    low = prediction.confidence < confidence_threshold
    evidence = _evidence_text(prediction)

    def decide(role: str, method: str, reason: str, *, stuck: bool) -> RouteDecision:
        chosen = _task_of(catalog, role, roles, prediction)
        confidence = sum(p for c, p in prediction.probabilities.items() if roles[c] == role)
        signals = prediction.signals if role == best_role else ("follow-up",)
        return RouteDecision(
            chosen,
            role,
            catalog.models[role].name,
            reason,
            confidence=round(confidence, 4),
            method=method,
            sticky=stuck,
            low_confidence=low,
            signals=signals,
        )

    if current is not None:
        if best_role == current:
            reason = f"{evidence}; stays on the {current} model"
            return decide(current, "classifier", reason, stuck=True)
        if prediction.confidence >= switch and best_role != catalog.default_role:
            return decide(
                best_role,
                "classifier",
                f"{evidence}; confident enough to leave the {current} model "
                f"(switch threshold {switch:.2f})",
                stuck=False,
            )
        return decide(
            current,
            "sticky",
            f"follow-up stays on the {current} model: {evidence}"
            + (
                " is the default task"
                if best_role == catalog.default_role
                else f" is below the switch threshold {switch:.2f}"
            )
            + (" (low confidence)" if low else ""),
            stuck=True,
        )
    if low:
        default = catalog.default_role
        return decide(
            default,
            "low-confidence-default",
            f"low confidence: {evidence} is below {confidence_threshold:.2f}; "
            f"the default {default} model answers",
            stuck=False,
        )
    return decide(best_role, "classifier", evidence, stuck=False)
