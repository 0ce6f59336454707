"""The retry policy: which failures are retried, and how long to wait between attempts.

Pure decisions only; the query engine drives the waiting. One retry layer: the ollama
and httpx clients below do not retry, and LangChain's ``with_retry`` is not used
(it retries every exception and cannot retry a stream).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from zero_llm.errors import TransientOllamaError, ZeroLLMError
from zero_llm.settings import RetrySettings

__all__ = ["RetryPolicy"]


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, for transient Ollama failures only."""

    settings: RetrySettings = field(default_factory=RetrySettings)
    rng: random.Random = field(default_factory=random.Random, compare=False)

    @property
    def max_attempts(self) -> int:
        """Attempts in all, the first included."""
        return self.settings.max_attempts

    def should_retry(self, error: ZeroLLMError, attempt: int) -> bool:
        """Whether to try again after ``error`` ended attempt number ``attempt`` (1-based)."""
        return isinstance(error, TransientOllamaError) and attempt < self.settings.max_attempts

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after attempt number ``attempt`` failed (1-based)."""
        s = self.settings
        base = min(s.max_backoff, s.initial_backoff * s.multiplier ** (attempt - 1))
        return base * (1.0 - s.jitter * self.rng.random())
