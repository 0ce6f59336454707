"""Keeping a prompt inside the model's context window.

In: the prompt messages (leading system messages = the context, then the history, then
the question), their token counts, and the budget. Out: the messages to send, with
``trim_messages``-compatible semantics — the system messages and the question always
kept, the newest history that fits kept in order, the kept history starting on a human
message (so a tool call is never split from its result) — or ``ContextOverflowError``
naming the numbers when even the system messages and the question cannot fit. When not
one history message fits, the newest is cut from the front with a visible marker rather
than dropped. Pure: counting is the ``TokenCounter``'s, the budget the caller's.

``fits_by_bytes`` is the cheap proof that needs no counting at all: with a byte-level
BPE vocabulary every token stands for at least one byte, so a prompt whose UTF-8 bytes
plus the template's overhead fit the budget fits in tokens too.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from zero_llm.errors import ContextOverflowError
from zero_llm.tokens import TemplateOverhead, TokenCounter, message_text

__all__ = [
    "CUT_MARKER",
    "FitResult",
    "WindowBudget",
    "byte_bound",
    "fit_counts",
    "fit_messages",
    "fits_by_bytes",
]

CUT_MARKER = "[... {cut} earlier tokens of this message were cut to fit the context window ...]\n"
MIN_CUT_TOKENS = 16
"""A message is cut only when at least this many of its tokens can be kept."""


@dataclass(frozen=True)
class WindowBudget:
    """How many prompt tokens a request may use."""

    num_ctx: int
    answer_reserve: int
    safety_margin: int

    @property
    def prompt_tokens(self) -> int:
        """``num_ctx`` less the room for the answer and the safety margin."""
        return max(0, self.num_ctx - self.answer_reserve - self.safety_margin)


@dataclass(frozen=True)
class FitResult:
    """The prompt to send and what trimming did."""

    messages: list[BaseMessage]
    prompt_tokens: int
    dropped: int
    cut: bool
    budget: int


def fit_counts(history_counts_newest_first: Sequence[int], remaining: int) -> int:
    """How many of the newest history messages fit in ``remaining`` tokens."""
    totals = list(itertools.accumulate(history_counts_newest_first))
    return bisect.bisect_right(totals, remaining)


def byte_bound(messages: Sequence[BaseMessage], overhead: TemplateOverhead) -> int:
    """An upper bound of the prompt's tokens: its UTF-8 bytes plus the template's overhead.

    Sound for byte-level BPE vocabularies (Llama 3, Qwen 2/2.5, DeepSeek-R1 distills),
    where no token is shorter than one byte. The text is what the counters count
    (``message_text``: content, and tool calls).
    """
    total = overhead.per_prompt + overhead.per_message * len(messages)
    return total + sum(len(message_text(m).encode("utf-8", "surrogatepass")) for m in messages)


def fits_by_bytes(messages: Sequence[BaseMessage], overhead: TemplateOverhead, budget: int) -> bool:
    """True when the prompt provably fits ``budget`` tokens without counting them.

    False means only "count to know". Valid for byte-level BPE vocabularies only.
    """
    return byte_bound(messages, overhead) <= budget


def _split(messages: Sequence[BaseMessage]) -> tuple[int, int]:
    """(end of the leading system messages, index of the question)."""
    head = 0
    while head < len(messages) - 1 and isinstance(messages[head], SystemMessage):
        head += 1
    return head, len(messages) - 1


def fit_messages(
    messages: Sequence[BaseMessage],
    counter: TokenCounter,
    budget: WindowBudget,
    counts: Sequence[int] | None = None,
) -> FitResult:
    """Trim ``messages`` to the budget (see the module docstring for the rules).

    ``counts`` may carry each message's token count (template overhead included) when
    they are known already, e.g. stored with the history; otherwise they are counted.
    """
    if not messages:
        return FitResult([], 0, 0, False, budget.prompt_tokens)
    head_end, question_at = _split(messages)
    if counts is None:
        counts = counter.count_messages(messages)
    fixed = counter.overhead.per_prompt + sum(counts[:head_end]) + counts[question_at]
    allowed = budget.prompt_tokens
    if fixed > allowed:
        raise ContextOverflowError(
            f"the system messages and the question need {fixed} tokens, but the window "
            f"leaves {allowed} for the prompt (num_ctx {budget.num_ctx} less "
            f"{budget.answer_reserve} kept for the answer and a margin of "
            f"{budget.safety_margin}); shorten the context or the question",
            needed=fixed,
            budget=allowed,
        )
    history = list(messages[head_end:question_at])
    history_counts = counts[head_end:question_at]
    remaining = allowed - fixed
    fitting = fit_counts(history_counts[::-1], remaining)
    kept = history[len(history) - fitting :] if fitting else []
    kept_tokens = sum(history_counts[len(history) - fitting :]) if fitting else 0
    cut = False
    if not kept and history:
        newest = history[-1]
        shortened = _cut_message(newest, counter, remaining)
        if shortened is not None:
            kept, kept_tokens, cut = [shortened], counter.count_message(shortened), True
    else:
        while kept and not isinstance(kept[0], HumanMessage):
            kept_tokens -= counter.count_message(kept[0])
            kept.pop(0)
    result = [*messages[:head_end], *kept, messages[question_at]]
    return FitResult(
        messages=result,
        prompt_tokens=fixed + kept_tokens,
        dropped=len(history) - len(kept),
        cut=cut,
        budget=allowed,
    )


def _cut_message(message: BaseMessage, counter: TokenCounter, remaining: int) -> BaseMessage | None:
    text = message.text
    total = counter.count_text(text)
    marker_cost = counter.count_text(CUT_MARKER.format(cut=total))
    room = remaining - counter.overhead.per_message - marker_cost
    while room >= MIN_CUT_TOKENS:
        tail = counter.cut_to(text, room)
        marker = CUT_MARKER.format(cut=total - counter.count_text(tail))
        shortened = message.model_copy(update={"content": marker + tail})
        if counter.count_message(shortened) <= remaining:
            return shortened
        room -= 8  # the joint tokenized a little longer than its parts: give way
    return None
