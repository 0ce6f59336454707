"""Token counting, offline: exact with the model's own vocabulary, else a safe estimate.

In: text and LangChain messages. Out: token counts including what the model's chat
template adds around each message. ``ExactCounter`` uses a tiktoken encoding built from
the vocabulary Ollama serves (``zero_llm.vocab``); ``EstimatingCounter`` errs on the side
of more tokens (non-ASCII characters count as a token or more, emoji as 2.5) and is
calibrated by the ``prompt_eval_count`` Ollama reports. Counts of a text are cached so
that nothing is counted twice.
"""

from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import tiktoken
from langchain_core.messages import AIMessage, BaseMessage

__all__ = [
    "EstimatingCounter",
    "ExactCounter",
    "TemplateOverhead",
    "TokenCounter",
    "overhead_for_template",
]

CACHE_LIMIT = 100_000
_LETTER_RUNS = re.compile(r"[A-Za-z]+")
_TWO_BYTE = re.compile("[\u0080-\u07ff]")
_WIDE = re.compile("[\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class TemplateOverhead:
    """Tokens a chat template adds: around each message, and once per prompt."""

    family: str
    per_message: int
    per_prompt: int


TEMPLATE_OVERHEADS = {
    "llama3": TemplateOverhead("llama3", 5, 5),
    "chatml": TemplateOverhead("chatml", 5, 3),
    "deepseek": TemplateOverhead("deepseek", 2, 2),
    "unknown": TemplateOverhead("unknown", 8, 16),
}


def overhead_for_template(template: str | None) -> TemplateOverhead:
    """Recognise a chat template's family from its markers (unknown: a generous guess)."""
    text = template or ""
    if "<|start_header_id|>" in text:
        return TEMPLATE_OVERHEADS["llama3"]
    if "<|im_start|>" in text:
        return TEMPLATE_OVERHEADS["chatml"]
    if "<\uff5cUser\uff5c>" in text or "<\uff5cAssistant\uff5c>" in text:
        return TEMPLATE_OVERHEADS["deepseek"]
    return TEMPLATE_OVERHEADS["unknown"]


class TokenCounter(Protocol):
    """Counts tokens the way one model sees them."""

    exact: bool
    overhead: TemplateOverhead

    def count_text(self, text: str) -> int:
        """Tokens of a text."""
        ...

    def count_message(self, message: BaseMessage) -> int:
        """Tokens of a message, the template's overhead included."""
        ...

    def count_prompt(self, messages: Sequence[BaseMessage]) -> int:
        """Tokens of a whole prompt, as Ollama would evaluate it."""
        ...

    def count_messages(self, messages: Sequence[BaseMessage]) -> list[int]:
        """Tokens of each message, the template's overhead included (counted in bulk)."""
        ...

    def cut_to(self, text: str, tokens: int) -> str:
        """The end of ``text`` that fits in ``tokens``."""
        ...

    def observe(self, counted: int, reported: int) -> None:
        """Learn from what Ollama reported for a prompt we counted."""
        ...


def message_text(message: BaseMessage) -> str:
    """The text of a message that the model reads (content, and tool calls as JSON)."""
    text = str(message.text)
    if isinstance(message, AIMessage) and message.tool_calls:
        text += "".join(f"{c['name']}{c['args']}" for c in message.tool_calls)
    return text


class _CountingBase(ABC):
    """What both counters share: overheads, the per-text cache, bulk counting."""

    exact = False

    def __init__(self, overhead: TemplateOverhead) -> None:
        self.overhead = overhead
        self._cache: dict[str, int] = {}

    @abstractmethod
    def _count_uncached(self, text: str) -> int:
        """Count one text's tokens (no cache)."""

    def count_text(self, text: str) -> int:
        """Tokens of a text (cached by the text)."""
        found = self._cache.get(text)
        if found is None:
            if len(self._cache) >= CACHE_LIMIT:
                self._cache.clear()
            found = self._cache[text] = self._count_uncached(text)
        return found

    def count_message(self, message: BaseMessage) -> int:
        """Tokens of a message, the template's overhead included."""
        return self.overhead.per_message + self.count_text(message_text(message))

    def count_prompt(self, messages: Sequence[BaseMessage]) -> int:
        """Tokens of a whole prompt, as Ollama would evaluate it."""
        return self.overhead.per_prompt + sum(self.count_messages(messages))

    def count_messages(self, messages: Sequence[BaseMessage]) -> list[int]:
        """Tokens of each message, the template's overhead included (counted in bulk)."""
        texts = [message_text(m) for m in messages]
        cache = self._cache
        missing = list(dict.fromkeys(t for t in texts if t not in cache))
        if missing:
            if len(cache) + len(missing) > CACHE_LIMIT:
                cache.clear()
            cache.update(zip(missing, self._count_many(missing), strict=True))
        per = self.overhead.per_message
        return [per + cache[t] for t in texts]

    def _count_many(self, texts: list[str]) -> list[int]:
        return [self._count_uncached(t) for t in texts]

    @abstractmethod
    def observe(self, counted: int, reported: int) -> None:
        """Learn from what Ollama reported for a prompt we counted."""


class ExactCounter(_CountingBase):
    """Exact counts with the model's own vocabulary."""

    exact = True

    def __init__(self, encoding: tiktoken.Encoding, overhead: TemplateOverhead) -> None:
        super().__init__(overhead)
        self.encoding = encoding

    def _count_uncached(self, text: str) -> int:
        return len(self.encoding.encode_ordinary(text))

    def _count_many(self, texts: list[str]) -> list[int]:
        # tiktoken's batch runs one thread task per text: worth it for long texts only.
        if len(texts) >= 4 and sum(map(len, texts)) >= 4096 * len(texts):
            return [len(ids) for ids in self.encoding.encode_ordinary_batch(texts)]
        encode = self.encoding.encode_ordinary
        return [len(encode(t)) for t in texts]

    def observe(self, counted: int, reported: int) -> None:
        """Nothing to learn: the counts are exact."""

    def cut_to(self, text: str, tokens: int) -> str:
        """The last ``tokens`` tokens of ``text`` (whole characters only)."""
        ids = self.encoding.encode_ordinary(text)
        if len(ids) <= tokens:
            return text
        tail = self.encoding.decode_bytes(ids[len(ids) - tokens :])
        return tail.decode("utf-8", errors="ignore")


class EstimatingCounter(_CountingBase):
    """A conservative estimate for models whose vocabulary we do not have.

    ASCII letters cost a token per 3.5, or one per run of letters when runs are short;
    every other ASCII character (punctuation, digits, newlines) a token, a space an
    eighth; a two-byte character (Hebrew, Arabic, Cyrillic, accents) 1.25 tokens, as
    Llama 3 spends up to 1.2 on Hebrew; other BMP characters (CJK) one; emoji and other
    characters outside the BMP 2.5, as byte-level vocabularies split them into bytes.
    The estimate is then scaled by the largest ratio of reported to estimated counts seen
    in the last observations (plus 5%), so it keeps erring on the side of more tokens.
    """

    LETTERS_PER_TOKEN = 3.5
    TWO_BYTE_TOKENS = 1.25
    WIDE_TOKENS = 2.5

    def __init__(self, overhead: TemplateOverhead) -> None:
        super().__init__(overhead)
        self._ratios: deque[float] = deque(maxlen=32)
        self.scale = 1.0

    def _raw(self, text: str) -> float:
        without_letters, runs = _LETTER_RUNS.subn("", text)
        letters = len(text) - len(without_letters)
        spaces = without_letters.count(" ")
        tokens = max(letters / self.LETTERS_PER_TOKEN, runs) + spaces / 8
        if without_letters.isascii():
            return tokens + len(without_letters) - spaces
        rest, two_byte = _TWO_BYTE.subn("", without_letters)
        rest, wide = _WIDE.subn("", rest)
        ascii_rest = len(rest.encode("ascii", errors="ignore"))
        other = len(rest) - ascii_rest
        return (
            tokens
            + ascii_rest
            - spaces
            + two_byte * self.TWO_BYTE_TOKENS
            + other
            + wide * self.WIDE_TOKENS
        )

    def _count_uncached(self, text: str) -> int:
        return math.ceil(self._raw(text) * self.scale)

    def cut_to(self, text: str, tokens: int) -> str:
        """An end of ``text`` whose estimate fits in ``tokens``."""
        if self.count_text(text) <= tokens:
            return text
        low, high = 0, len(text)
        while low < high:  # the longest tail that fits
            mid = (low + high + 1) // 2
            if math.ceil(self._raw(text[len(text) - mid :]) * self.scale) <= tokens:
                low = mid
            else:
                high = mid - 1
        return text[len(text) - low :]

    def observe(self, counted: int, reported: int) -> None:
        """Rescale to the largest recent ratio of reported to raw estimate, plus 5%.

        Below 1 (the raw estimate was too generous) only after three observations, so
        one prompt served from Ollama's cache cannot make the estimate optimistic.
        """
        if counted <= 0 or reported <= 0:
            return
        self._ratios.append(reported / counted * self.scale)
        worst = max(self._ratios) * 1.05
        scale = worst if len(self._ratios) >= 3 else max(1.0, worst)
        if scale != self.scale:
            self.scale = scale
            self._cache.clear()
