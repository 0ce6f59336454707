"""Which text of a usage row is sealed with the history key (errors may echo prompts).

In: a ``zl_usage`` row and a function from a text to its stored (or read) form. Out: the
row with its free text mapped; models, counts, durations and error types stay readable
for summaries. The ledger seals on write and opens on read (``opened_usage_record``, also
the record commands' SQLite reader's); key rotation re-seals. Light to import.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from zero_llm.usage.record import UsageRecord

if TYPE_CHECKING:
    from zero_llm.history.crypto import TextCipher

__all__ = [
    "SEALED_PLACEHOLDER",
    "USAGE_STEP_FIELDS",
    "USAGE_TEXT_FIELDS",
    "opened_usage_record",
    "seal_usage_row",
]

SEALED_PLACEHOLDER = "[encrypted]"
"""What a reader without the history key sees in place of sealed usage text."""

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


def opened_usage_record(values: dict[str, Any], cipher: TextCipher) -> UsageRecord:
    """A ``zl_usage`` row read back as a record, its sealed text opened (or a placeholder)."""
    from zero_llm.history.crypto import ENCRYPTED_PREFIX

    def reveal(text: str) -> str:
        if not text.startswith(ENCRYPTED_PREFIX):
            return text
        return cipher.open_sealed(text) if cipher.enabled else SEALED_PLACEHOLDER

    return UsageRecord.from_row(_Row(seal_usage_row(values, reveal)))


class _Row:
    """Attribute access over a dict, as ``UsageRecord.from_row`` reads a row."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)
