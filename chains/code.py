"""The code assistant on the code model (qwen2.5-coder): generate or review code.

In: ``{"request": ...}`` (generate) or ``{"code": ..., "focus": ...?}`` (review). Out: the
model's answer as a string.
"""

from __future__ import annotations

from typing import Any, Literal

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompt_values import PromptValue
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable, RunnableLambda

from zero_llm import ModelManager

__all__ = ["build"]

PROMPTS = {
    "generate": ChatPromptTemplate.from_messages(
        [
            (
                "system",
                "You are ZERO's coding assistant. Write correct, idiomatic, tested code, "
                "then explain it in two sentences.",
            ),
            ("human", "{request}"),
        ]
    ),
    "review": ChatPromptTemplate.from_messages(
        [
            (
                "system",
                "You are ZERO's code reviewer. List bugs first, then risks, then style, "
                "each with the line it concerns.",
            ),
            ("human", "Review this code{focus}:\n```\n{code}\n```"),
        ]
    ),
}


def build(
    manager: ModelManager,
    *,
    mode: Literal["generate", "review"] = "generate",
    model: str = "code",
) -> Runnable[dict[str, Any], str]:
    """The code chain in ``mode`` on ``model`` (a role, name or alias)."""
    if mode not in PROMPTS:
        raise ValueError(f"mode must be 'generate' or 'review', got {mode!r}")

    def defaults(value: dict[str, Any]) -> dict[str, Any]:
        if mode == "review":
            focus = value.get("focus")
            return {**value, "focus": f" (focus: {focus})" if focus else ""}
        return value

    def to_request(prompt: PromptValue) -> dict[str, Any]:
        return {"input": prompt, "model": model}

    return (
        RunnableLambda(defaults)
        | PROMPTS[mode]
        | RunnableLambda(to_request)
        | manager.as_runnable()
        | StrOutputParser()
    ).with_config(run_name=f"zero_llm.code_{mode}")
