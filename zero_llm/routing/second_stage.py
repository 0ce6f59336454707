"""The optional second stage: ask the quick model which task a doubtful request is.

In: a chat function (``ollama.AsyncClient.chat``, or ``OllamaBackend.answer``), the
request's text, the model and a latency budget. Out: a ``SecondOpinion`` — the task the
model chose (constrained by Ollama's ``format`` JSON schema to an enum of the task
classes), or ``None`` when it failed or ran past the budget, and the seconds it took. Off
by default (``RoutingSettings.llm_second_stage``).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import ollama

from zero_llm.errors import ZeroLLMError
from zero_llm.routing.classifier import CLASSES

__all__ = ["SCHEMA", "SecondOpinion", "ask_quick_model"]

SCHEMA: dict[str, object] = {
    "type": "object",
    "properties": {"task": {"type": "string", "enum": list(CLASSES)}},
    "required": ["task"],
}
"""The JSON schema passed as ``format``: one task class."""

# The labelling rules of zero_llm/routing/data/LABELLING.md, in short.
_INSTRUCTIONS = (
    "Classify the user's request for routing. "
    "code: software work - writing, fixing, reviewing or explaining code, SQL, regexes, shell; "
    "also deployment, docker, kubernetes, helm, terraform, ansible, CI systems, git concepts, "
    "design patterns and architecture, even with no code in the message; code about money "
    "(a trading bot, a financial function, storing amounts) is code. analysis: market and "
    "trading analysis, investment and portfolio decisions, valuation, macro, risk, careful "
    "multi-step reasoning. quick: everything else - chat, facts, shopping, health, gifts, "
    "writing prose, simple sums and one-line definitions, even when they mention markets, money "
    "or programming words in another sense (a pet named Python). When a message has several "
    "parts, its main request decides. Answer with JSON only."
)


@dataclass(frozen=True, slots=True)
class SecondOpinion:
    """What the quick model said, and how long it took."""

    task: str | None
    """A task class, or None when there was no usable answer within the budget."""
    seconds: float
    """Time spent asking."""
    error: str | None = None
    """Why there is no answer (timeout, error, invalid output)."""


async def ask_quick_model(
    chat: Callable[..., Awaitable[Any]],
    text: str,
    *,
    model: str = "llama3.1:8b",
    budget_s: float = 1.5,
) -> SecondOpinion:
    """Ask ``model`` to classify ``text``; give up after ``budget_s`` seconds.

    ``chat`` takes ollama's ``chat`` keywords (``model``, ``messages``, ``format``,
    ``options``) and returns its ``ChatResponse``.
    """
    start = time.perf_counter()
    try:
        async with asyncio.timeout(budget_s):
            response = await chat(
                model=model,
                messages=[
                    {"role": "system", "content": _INSTRUCTIONS},
                    {"role": "user", "content": text[:2000]},
                ],
                format=SCHEMA,
                options={"temperature": 0, "num_predict": 16},
            )
    except TimeoutError:
        return SecondOpinion(None, time.perf_counter() - start, "timeout")
    except (ZeroLLMError, ollama.ResponseError, httpx.HTTPError, ConnectionError) as exc:
        return SecondOpinion(None, time.perf_counter() - start, type(exc).__name__)
    elapsed = time.perf_counter() - start
    try:
        task = json.loads(response.message.content or "")["task"]
    except (ValueError, KeyError, TypeError):
        return SecondOpinion(None, elapsed, "invalid output")
    if task not in CLASSES:
        return SecondOpinion(None, elapsed, "invalid output")
    return SecondOpinion(task, elapsed)
