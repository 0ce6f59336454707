"""Which text of a usage row is sealed with the history key (errors may echo prompts).

In: a ``zl_usage`` row and a function from a text to its stored (or read) form. Out: the
row with its free text mapped; models, counts, durations and error types stay readable
for summaries. The ledger seals on write and opens on read; key rotation re-seals.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

__all__ = ["USAGE_STEP_FIELDS", "USAGE_TEXT_FIELDS", "seal_usage_row"]

USAGE_TEXT_FIELDS = ("error", "fallback_note")
USAGE_STEP_FIELDS = ("retries", "fallbacks")


def seal_usage_row(row: dict[str, Any], seal: Callable[[str], str]) -> dict[str, Any]:
    """A ``zl_usage`` row with its free text (errors Ollama may echo prompts in) mapped.

    ``seal`` maps one text to its stored (or read) form: the error, the fallback note and
    the ``message`` of each retry and fallback step. The rest (models, counts, durations,
    error types) stays readable for summaries.
    """
    out = dict(row)
    for name in USAGE_TEXT_FIELDS:
        if out.get(name):
            out[name] = seal(out[name])
    for name in USAGE_STEP_FIELDS:
        raw = out.get(name)
        if raw and raw != "[]":
            steps = json.loads(raw)
            for step in steps:
                if isinstance(step, dict) and isinstance(step.get("message"), str):
                    step["message"] = seal(step["message"])
            out[name] = json.dumps(steps)
    return out
