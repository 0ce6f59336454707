"""Quick answers on the default model (llama3.1:8b). In: a question. Out: the answer."""

from __future__ import annotations

from typing import Any

from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import Runnable, RunnableLambda

from zero_llm import ModelManager

__all__ = ["SYSTEM_PROMPT", "build"]

SYSTEM_PROMPT = "You are ZERO. Answer briefly and plainly; say so when you do not know."


def build(manager: ModelManager, *, model: str = "quick") -> Runnable[Any, str]:
    """The quick-answer chain on ``model`` (a role, name or alias)."""

    def to_request(value: Any) -> dict[str, Any]:
        question = value["question"] if isinstance(value, dict) else value
        session = value.get("session_id") if isinstance(value, dict) else None
        return {"input": question, "model": model, "context": SYSTEM_PROMPT, "session_id": session}

    return (RunnableLambda(to_request) | manager.as_runnable() | StrOutputParser()).with_config(
        run_name="zero_llm.quick_answer"
    )
