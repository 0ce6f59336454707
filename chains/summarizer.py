"""Summaries of a conversation on the default model, e.g. of what the window drops.

In: a list of LangChain messages, or a transcript string. Out: the summary text. Uses
the same instructions as the window's ``summarize_dropped``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.messages import BaseMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import Runnable, RunnableLambda

from zero_llm import ModelManager
from zero_llm.calls.summary import SUMMARY_INSTRUCTIONS

__all__ = ["build", "transcript"]


def transcript(messages: Sequence[BaseMessage]) -> str:
    """The messages as ``role: text`` lines."""
    return "\n".join(f"{m.type}: {m.text}" for m in messages)


def build(manager: ModelManager, *, model: str = "quick") -> Runnable[Any, str]:
    """The summarizer chain on ``model`` (a role, name or alias)."""

    def to_request(value: Any) -> dict[str, Any]:
        text = value if isinstance(value, str) else transcript(value)
        return {"input": text, "model": model, "context": SUMMARY_INSTRUCTIONS}

    return (RunnableLambda(to_request) | manager.as_runnable() | StrOutputParser()).with_config(
        run_name="zero_llm.summarizer"
    )
