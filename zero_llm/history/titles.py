"""A conversation's title, made from its first question.

In: the first question's text. Out: one line of at most ``TITLE_LENGTH`` characters, no
control characters, or ``""`` for a question with no words. Pure. The store seals it
like every other text when the history is encrypted.
"""

from __future__ import annotations

import re

__all__ = ["TITLE_LENGTH", "session_title"]

TITLE_LENGTH = 60
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def session_title(question: str) -> str:
    """The title for a conversation whose first question is ``question``."""
    words = " ".join(_CONTROL.sub(" ", question).split())
    if len(words) <= TITLE_LENGTH:
        return words
    return words[: TITLE_LENGTH - 1].rstrip() + "…"
