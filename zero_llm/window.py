"""Keeping a prompt inside the model's context window, made for tool loops.

In: the prompt messages, the tools bound to the call, a ``TokenCounter`` and the budget.
Out: the messages to send and what was dropped or cut, or ``ContextOverflowError``
naming the numbers. The prompt is always measured whole (``count_prompt``: the model's
template, its default system prompt, the tools), so what is sent fits by that count.

What is kept, in this order of priority:

1. the leading system messages;
2. the **task**: the newest human message, the one the current step works on (in a
   single-question agent run it is the run's first human message; when the conversation
   ends with a human message, that message is the task);
3. the **current unit**: the last message, or, when the conversation ends in a tool
   round, that whole round (the AI message with tool calls and all its tool results);
4. as many earlier units as fit, newest first, each whole: a tool round is kept or
   dropped with all its results; plain messages one by one, oldest dropped first, and an
   AI answer is never kept without the message before it (what is kept of a plain chat
   starts on a human message, as ``trim_messages(start_on="human")`` keeps it).

When 1-3 alone do not fit, tool results among them are cut in the middle, largest first,
with a visible marker (``CUT_MARKER``) naming the tokens cut; head and tail are exact
slices of the original text. Only when even that cannot fit (the system messages and the
task are too long, or the room left is too small for a result) is it an overflow.
Pure: counting is the counter's, the budget the caller's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage

from zero_llm.errors import ContextOverflowError
from zero_llm.tokens import TokenCounter

__all__ = ["CUT_MARKER", "FitResult", "WindowBudget", "fit_messages", "tool_units"]

CUT_MARKER = (
    "\n[... {cut} tokens of this tool result were cut here to fit the context window ...]\n"
)
MIN_CUT_TOKENS = 32
"""A tool result is cut only when at least this many of its tokens can be kept."""


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
    """The prompt to send and what fitting did."""

    messages: list[BaseMessage]
    prompt_tokens: int
    dropped: int
    """How many messages were left out."""
    cut: bool
    """Whether any message was cut."""
    budget: int
    cut_messages: list[int] = field(default_factory=list)
    """Positions (in ``messages``) of the messages that were cut."""
    dropped_rounds: int = 0
    """How many whole tool rounds were left out."""


def tool_units(messages: Sequence[BaseMessage]) -> list[tuple[int, int]]:
    """The messages grouped into units ``(start, end)``: a tool round, or one message.

    A tool round is an AI message with tool calls and the tool results that follow it.
    """
    units: list[tuple[int, int]] = []
    index = 0
    while index < len(messages):
        message = messages[index]
        end = index + 1
        if isinstance(message, AIMessage) and message.tool_calls:
            while end < len(messages) and isinstance(messages[end], ToolMessage):
                end += 1
        units.append((index, end))
        index = end
    return units


def _plain_answer(messages: Sequence[BaseMessage], unit: tuple[int, int]) -> bool:
    """Whether a unit is one AI answer without tool calls."""
    message = messages[unit[0]]
    return unit[1] - unit[0] == 1 and isinstance(message, AIMessage) and not message.tool_calls


def fit_messages(
    messages: Sequence[BaseMessage],
    counter: TokenCounter,
    budget: WindowBudget,
    tools: Sequence[Mapping[str, Any]] = (),
) -> FitResult:
    """Trim ``messages`` to the budget by the rules of the module docstring."""
    allowed = budget.prompt_tokens
    if not messages:
        return FitResult([], 0, 0, False, allowed)
    messages = list(messages)
    total = counter.count_prompt(messages, tools)
    if total <= allowed:
        return FitResult(messages, total, 0, False, allowed)

    head_end = 0
    while head_end < len(messages) - 1 and isinstance(messages[head_end], SystemMessage):
        head_end += 1
    units = [(s + head_end, e + head_end) for s, e in tool_units(messages[head_end:])]
    current = units[-1]
    task = None  # the newest human message, unless the current unit is that message
    if not isinstance(messages[current[0]], HumanMessage):
        task = next(
            (u for u in reversed(units[:-1]) if isinstance(messages[u[0]], HumanMessage)),
            None,
        )

    droppable = [u for u in units[:-1] if u != task]  # oldest first

    def assemble(dropped: int) -> list[BaseMessage]:
        gone = set(droppable[:dropped])
        kept = [messages[i] for u in units if u not in gone for i in range(*u)]
        return [*messages[:head_end], *kept]

    low, high = 1, len(droppable)  # the fewest units to drop so that the prompt fits
    best: int | None = None
    best_count = 0
    while low <= high:
        middle = (low + high) // 2
        count = counter.count_prompt(assemble(middle), tools)
        if count <= allowed:
            best, best_count, high = middle, count, middle - 1
        else:
            low = middle + 1
    if best is not None:
        while best < len(droppable) and _plain_answer(messages, droppable[best]):
            best += 1  # an answer whose question was dropped goes with it
        best_count = counter.count_prompt(assemble(best), tools)
        gone = droppable[:best]
        return FitResult(
            assemble(best),
            best_count,
            sum(e - s for s, e in gone),
            False,
            allowed,
            dropped_rounds=sum(1 for s, e in gone if e - s > 1),
        )
    pinned = assemble(len(droppable))
    return _cut_to_fit(pinned, counter, budget, tools, len(messages) - len(pinned), droppable)


def _cut_to_fit(
    pinned: list[BaseMessage],
    counter: TokenCounter,
    budget: WindowBudget,
    tools: Sequence[Mapping[str, Any]],
    dropped: int,
    droppable: list[tuple[int, int]],
) -> FitResult:
    """Cut the pinned messages' tool results, largest first, until the prompt fits."""
    allowed = budget.prompt_tokens
    kept = list(pinned)
    count = counter.count_prompt(kept, tools)
    sizes = sorted(
        (
            (counter.count_text(str(m.text)), i)
            for i, m in enumerate(kept)
            if isinstance(m, ToolMessage) and isinstance(m.content, str)
        ),
        reverse=True,
    )
    cut_at: list[int] = []
    for size, index in sizes:
        if count <= allowed:
            break
        original = kept[index]
        target = max(MIN_CUT_TOKENS, size - (count - allowed))
        while True:
            shortened = counter.cut_middle(
                str(original.content), target, lambda n: CUT_MARKER.format(cut=n)
            )
            trial = [
                *kept[:index],
                original.model_copy(update={"content": shortened}),
                *kept[index + 1 :],
            ]
            trial_count = counter.count_prompt(trial, tools)
            if trial_count <= allowed or target <= MIN_CUT_TOKENS:
                break
            target = max(MIN_CUT_TOKENS, target - max(8, trial_count - allowed))
        if trial_count < count:
            kept, count = trial, trial_count
            cut_at.append(index)
    if count > allowed:
        raise ContextOverflowError(
            f"the system messages, the task and the current step need {count} tokens even "
            f"with their tool results cut, but the window leaves {allowed} for the prompt "
            f"(num_ctx {budget.num_ctx} less {budget.answer_reserve} kept for the answer and "
            f"a margin of {budget.safety_margin}); shorten the context or the question",
            needed=count,
            budget=allowed,
        )
    return FitResult(
        kept,
        count,
        dropped,
        bool(cut_at),
        allowed,
        cut_messages=sorted(set(cut_at)),
        dropped_rounds=sum(1 for s, e in droppable if e - s > 1),
    )
