"""The truncation check: whether Ollama cut a prompt it was sent, silently.

In: the model's profile, the messages sent, our count of their prompt, and the trace with
Ollama's own ``prompt_eval_count``. Out: ``trace.truncation_suspected`` and a warning when
Ollama's count says the prompt was cut; the counter's calibration fed with the pair.
The last prompt of each model is kept to judge what Ollama's prompt cache could explain.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from langchain_core.messages import BaseMessage

from zero_llm.answer import CallTrace
from zero_llm.calls.profiles import ModelProfile
from zero_llm.catalog import ModelSpec

__all__ = ["TruncationCheck"]

log = logging.getLogger(__name__)


class TruncationCheck:
    """Compares Ollama's prompt counts with ours, call after call, per model."""

    def __init__(self) -> None:
        self._last_prompts: dict[str, list[BaseMessage]] = {}

    def check(
        self,
        spec: ModelSpec,
        profile: ModelProfile,
        messages: Sequence[BaseMessage],
        counted: int,
        trace: CallTrace,
    ) -> None:
        """Compare our prompt count with Ollama's; flag a prompt Ollama must have cut.

        Two signs: Ollama evaluated more than we counted and its window is (nearly) full,
        or, with exact counts, it evaluated fewer tokens than we counted by more than its
        prompt cache can explain (it can only hold what this model's last prompt shared).
        """
        reported = trace.prompt_tokens
        previous = self._last_prompts.get(spec.name, [])
        self._last_prompts[spec.name] = list(messages)
        if reported is None:
            return
        if reported * 2 > counted:  # far smaller counts come from Ollama's prompt cache
            profile.counter.observe(counted, reported)
        tolerance = 8 + counted // 50
        full = reported > counted + tolerance and reported >= profile.num_ctx * 0.9
        short = profile.counter.exact and reported < counted - tolerance
        if short:  # only now is it worth finding what the cache could hold
            shared = 0
            for mine, theirs in zip(messages, previous, strict=False):
                if mine.type != theirs.type or mine.text != theirs.text:
                    break
                shared += 1
            cacheable = sum(profile.counter.count_messages(messages[:shared]))
            short = reported < counted - cacheable - tolerance
        if full or short:
            trace.truncation_suspected = True
            log.warning(
                "Ollama evaluated %d prompt tokens for %s (num_ctx %d) where we counted %d: "
                "the prompt was probably cut by Ollama (request %s)",
                reported,
                spec.name,
                profile.num_ctx,
                counted,
                trace.request_id,
            )
