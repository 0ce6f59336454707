"""Summarising dropped turns: a step before the call, when ``window.summarize_dropped`` is on.

In: the prompt, its tools, the answering model's profile and a way to ask the default
model for a whole answer. Out: the prompt itself when it fits; else the prompt the window
keeps, with the turns it would drop replaced by one system message that summarises them
(the default model writes it). The window keeps ``summary_tokens`` (and a message's
overhead) free for that summary, so the result stays inside the budget and the call's own
fit keeps it whole.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from zero_llm.calls.profiles import ModelProfile
from zero_llm.settings import WindowSettings
from zero_llm.window import WindowBudget, fit_messages

__all__ = ["SUMMARY_INSTRUCTIONS", "SummarizedPrompt", "summarize_dropped"]

SUMMARY_INSTRUCTIONS = (
    "Summarize this earlier part of a conversation in a few sentences. Keep names, numbers, "
    "decisions and open questions; leave out pleasantries."
)

SUMMARY_PREFIX = "Summary of the earlier conversation: "


@dataclass(frozen=True)
class SummarizedPrompt:
    """The prompt to send, and how many of the caller's messages its summary stands for."""

    messages: list[BaseMessage]
    summarized: int = 0


async def summarize_dropped(
    messages: Sequence[BaseMessage],
    tools: Sequence[dict[str, Any]],
    profile: ModelProfile,
    summarizer: ModelProfile,
    ask_summarizer: Callable[[list[BaseMessage]], Awaitable[str]],
    window: WindowSettings,
) -> SummarizedPrompt:
    """The prompt with the turns the window would drop replaced by their summary.

    ``summarizer`` is the profile of the model ``ask_summarizer`` asks (the default one).
    """
    if not fit_messages(messages, profile.counter, profile.budget, tools).dropped:
        return SummarizedPrompt(list(messages))
    base = profile.budget
    room = window.summary_tokens + profile.counter.overhead.per_message + 16
    narrower = WindowBudget(base.num_ctx, base.answer_reserve + room, base.safety_margin)
    fitted = fit_messages(messages, profile.counter, narrower, tools)
    kept = {id(m) for m in fitted.messages}
    head = [m for m in fitted.messages[:-1] if isinstance(m, SystemMessage)]
    dropped = [m for m in messages[len(head) : -1] if id(m) not in kept]
    transcript = "\n".join(f"{m.type}: {m.text}" for m in dropped)
    transcript = summarizer.counter.cut_to(
        transcript, max(summarizer.budget.prompt_tokens - 256, 64)
    )
    reply = await ask_summarizer([SystemMessage(SUMMARY_INSTRUCTIONS), HumanMessage(transcript)])
    summary = profile.counter.cut_to(
        reply, window.summary_tokens - profile.counter.count_text(SUMMARY_PREFIX)
    )
    note = SystemMessage(SUMMARY_PREFIX + summary)
    return SummarizedPrompt([*head, note, *fitted.messages[len(head) :]], fitted.dropped)
