"""Trading analysis on the reasoning model (deepseek-r1), as a validated structure.

In: a question (a string, or ``{"question": ..., "context": ...}``). Out: a
``TradingView`` (stance, confidence, rationale, risks). The JSON schema goes to Ollama
as ``format``; the answer is validated, and if it is not valid JSON for the schema the
model gets one repair attempt (shown its answer and the error) before
``StructuredOutputError`` is raised.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from langchain_core.runnables import Runnable, RunnableLambda
from pydantic import BaseModel, Field, ValidationError

from zero_llm import ModelManager, StructuredOutputError

__all__ = ["SYSTEM_PROMPT", "TradingView", "build"]

SYSTEM_PROMPT = (
    "You are ZERO's trading analyst. Weigh the evidence, name the risks, and answer only "
    "with JSON that follows the given schema: a stance, your confidence between 0 and 1, "
    "a short rationale and the main risks."
)


class TradingView(BaseModel):
    """The analyst's view of a trading question."""

    stance: Literal["bullish", "bearish", "neutral"]
    """Which way the analyst leans."""
    confidence: float = Field(ge=0.0, le=1.0)
    """How sure, from 0 to 1."""
    rationale: str
    """Why, in a few sentences."""
    risks: list[str]
    """What could make the view wrong."""


def _question(value: Any) -> tuple[str, str]:
    if isinstance(value, str):
        return value, ""
    if isinstance(value, dict) and isinstance(value.get("question"), str):
        return value["question"], str(value.get("context") or "")
    raise StructuredOutputError(
        "the trading chain takes a question string or {'question': ..., 'context': ...}",
        raw=repr(value)[:200],
    )


def _parse(text: str) -> TradingView:
    return TradingView.model_validate(json.loads(text))


def build(manager: ModelManager, *, model: str = "reasoning") -> Runnable[Any, TradingView]:
    """The trading-analysis chain on ``model`` (a role, name or alias)."""
    router = manager.as_runnable()
    schema = TradingView.model_json_schema()

    async def analyse(value: Any) -> TradingView:
        question, context = _question(value)
        system = f"{SYSTEM_PROMPT}\n\n{context}".strip()
        request = {"input": question, "model": model, "format": schema, "context": system}
        answer = str((await router.ainvoke(request)).content)
        try:
            return _parse(answer)
        except (ValueError, ValidationError) as first_error:
            repair = (
                f"{question}\n\nYour previous answer was not valid JSON for the schema "
                f"({first_error.__class__.__name__}: {str(first_error)[:300]}). It was:\n"
                f"{answer[:2000]}\n\nAnswer again with only the JSON."
            )
            answer = str((await router.ainvoke({**request, "input": repair})).content)
            try:
                return _parse(answer)
            except (ValueError, ValidationError) as second_error:
                raise StructuredOutputError(
                    f"the model did not answer with a valid TradingView, even when asked to "
                    f"repair it: {second_error}",
                    raw=answer,
                ) from second_error

    def analyse_sync(value: Any) -> TradingView:
        return manager.bridge.run(analyse(value))

    return RunnableLambda(analyse_sync, afunc=analyse, name="zero_llm.trading_analysis")
