"""Token counting, offline: exact with a model's vocabulary and template, else an estimate.

In: text, LangChain messages and the tools bound to a call. Out: token counts.

* ``count_prompt(messages, tools)`` counts the prompt the model reads: with the model's
  chat template known (``PromptShape``: the template and default system prompt from
  ``/api/show``), the messages and tools are rendered as Ollama renders them
  (``zero_llm.prompt``) and the text is counted, the special tokens written in it as one
  token each, plus the begin-of-text token the vocabulary adds. Without a template the
  count is an estimate that errs high (a generous frame per message and per tool).
* ``count_text`` / ``count_messages`` count texts and single messages (a message's
  content and tool calls, plus its family's frame): the cheap per-message figures used to
  choose what to keep, never the final word on the window.
* ``cut_to`` and ``cut_middle`` shorten a text to a number of tokens; what they keep is
  always an exact slice of the original (no character is ever altered or dropped).

``ExactCounter`` uses a tiktoken encoding built from the vocabulary Ollama serves
(``zero_llm.vocab``); ``EstimatingCounter`` errs on the side of more tokens (non-ASCII
characters count as a token or more, emoji as 2.5) and is calibrated by the
``prompt_eval_count`` Ollama reports. Counts of a text are cached (bounded; a full
cache is emptied, never read back after, so counting cannot fail for it).
"""

from __future__ import annotations

import json
import math
import re
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import tiktoken
from langchain_core.messages import AIMessage, BaseMessage

from zero_llm.ollama.messages import to_ollama_messages
from zero_llm.prompt.ollama_prompt import ChatTemplate

__all__ = [
    "EstimatingCounter",
    "ExactCounter",
    "PromptShape",
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


@dataclass(frozen=True)
class PromptShape:
    """What frames a model's prompt: its chat template as Ollama renders it, BOS, thinking."""

    template: ChatTemplate | None = None
    add_bos: bool = False
    think: bool | str | None = None


ToolSchemas = Sequence[Mapping[str, Any]]


class TokenCounter(Protocol):
    """Counts tokens the way one model sees them."""

    exact: bool
    overhead: TemplateOverhead

    def count_text(self, text: str) -> int:
        """Tokens of a text."""
        ...

    def count_message(self, message: BaseMessage) -> int:
        """Tokens of a message, its family's frame included (an estimate of its share)."""
        ...

    def count_prompt(self, messages: Sequence[BaseMessage], tools: ToolSchemas = ()) -> int:
        """Tokens of a whole prompt with its tools, as Ollama will evaluate it."""
        ...

    def count_messages(self, messages: Sequence[BaseMessage]) -> list[int]:
        """Tokens of each message, its family's frame included (counted in bulk)."""
        ...

    def cut_to(self, text: str, tokens: int) -> str:
        """The end of ``text`` that fits in ``tokens`` (an exact slice of it)."""
        ...

    def cut_middle(self, text: str, tokens: int, marker: Callable[[int], str]) -> str:
        """``text`` with its middle replaced by ``marker(cut tokens)``, within ``tokens``."""
        ...

    def observe(self, counted: int, reported: int) -> None:
        """Learn from what Ollama reported for a prompt we counted."""
        ...


def message_text(message: BaseMessage) -> str:
    """The text of a message that the model reads (content, and tool calls as JSON)."""
    text = str(message.text)
    if isinstance(message, AIMessage) and message.tool_calls:
        text += "".join(
            f'{{"name": "{c["name"]}", "arguments": {json.dumps(c["args"], ensure_ascii=False)}}}'
            for c in message.tool_calls
        )
    return text


PROMPT_CACHE_LIMIT = 256
"""Whole-prompt counts a counter keeps (by the wire messages and tools; emptied when full)."""


def _wire_key(message: Mapping[str, Any]) -> tuple[Any, ...]:
    """Everything of a wire message that can reach the prompt, hashable."""
    calls = message.get("tool_calls")
    images = message.get("images")
    return (
        message.get("role"),
        message.get("content"),
        message.get("thinking"),
        message.get("tool_name"),
        repr(calls) if calls else None,
        tuple(images) if images else None,
    )


def _tools_key(tools: ToolSchemas) -> str:
    """The tools as canonical JSON text (a cache key)."""
    return json.dumps(tools, sort_keys=True, default=str) if tools else ""


TOOL_FRAME_TOKENS = 24
"""Tokens a template without a known rendering is assumed to add around each tool."""


class _CountingBase(ABC):
    """What both counters share: overheads, the per-text cache, prompts, cutting."""

    exact = False

    def __init__(self, overhead: TemplateOverhead, shape: PromptShape | None = None) -> None:
        self.overhead = overhead
        self.shape = shape or PromptShape()
        self._cache: dict[str, int] = {}
        self._prompts: dict[tuple[Any, ...], int] = {}

    @abstractmethod
    def _count_uncached(self, text: str) -> int:
        """Count one text's tokens (no cache)."""

    def count_text(self, text: str) -> int:
        """Tokens of a text (cached by the text)."""
        found = self._cache.get(text)
        if found is None:
            found = self._count_uncached(text)
            if len(self._cache) >= CACHE_LIMIT:
                self._cache.clear()
            self._cache[text] = found
        return found

    def count_message(self, message: BaseMessage) -> int:
        """Tokens of a message, its family's frame included (an estimate of its share)."""
        return self.overhead.per_message + self.count_text(message_text(message))

    def count_messages(self, messages: Sequence[BaseMessage]) -> list[int]:
        """Tokens of each message, its family's frame included (counted in bulk).

        The counts are taken before anything is stored in the cache and the cache is only
        read with a fallback, so a cache emptied on the way (by this call, or by a count
        in a worker thread) can never lose a count this call is using.
        """
        texts = [message_text(m) for m in messages]
        cache = self._cache
        missing = list(dict.fromkeys(t for t in texts if t not in cache))
        fresh = dict(zip(missing, self._count_many(missing), strict=True)) if missing else {}
        per = self.overhead.per_message
        counts = []
        for text in texts:  # never indexes the cache: another thread may have emptied it
            found = fresh.get(text)
            if found is None:
                found = cache.get(text)
            if found is None:
                found = fresh[text] = self._count_uncached(text)
            counts.append(per + found)
        if fresh:
            if len(cache) + len(fresh) > CACHE_LIMIT:
                cache.clear()
            if len(fresh) <= CACHE_LIMIT:
                cache.update(fresh)
        return counts

    def _count_many(self, texts: list[str]) -> list[int]:
        return [self._count_uncached(t) for t in texts]

    def count_prompt(self, messages: Sequence[BaseMessage], tools: ToolSchemas = ()) -> int:
        """Tokens of a whole prompt with its tools, as Ollama will evaluate it.

        Exact when the counter is exact and the model's template is known; otherwise the
        messages' and tools' estimates plus a generous frame.
        """
        template = self.shape.template
        if template is not None:
            wire = to_ollama_messages(messages)
            key = (tuple(map(_wire_key, wire)), _tools_key(tools))
            found = self._prompts.get(key)
            if found is None:  # a prompt counted again (the fit, then the call) is looked up
                rendered = template.render(wire, tools, self.shape.think)
                found = self._count_rendered(rendered) + (1 if self.shape.add_bos else 0)
                if len(self._prompts) >= PROMPT_CACHE_LIMIT:
                    self._prompts.clear()
                self._prompts[key] = found
            return found
        total = self.overhead.per_prompt + sum(self.count_messages(messages))
        for tool in tools:
            total += TOOL_FRAME_TOKENS + self.count_text(json.dumps(tool, ensure_ascii=False))
        return total

    def _count_rendered(self, text: str) -> int:
        return self._count_uncached(text)

    def cut_middle(self, text: str, tokens: int, marker: Callable[[int], str]) -> str:
        """``text`` with its middle replaced by ``marker(cut tokens)``, within ``tokens``.

        The head and the tail kept are exact slices of ``text`` (about a third and two
        thirds of the room: the end of a tool result usually carries its conclusion).
        """
        total = self.count_text(text)
        if total <= tokens:
            return text
        room = tokens - self.count_text(marker(total))
        while room > 0:
            head_room = room // 3
            head = self.cut_from_start(text, head_room)
            tail = self.cut_to(text[len(head) :], room - self.count_text(head))
            cut = total - self.count_text(head) - self.count_text(tail)
            shortened = head + marker(cut) + tail
            if self.count_text(shortened) <= tokens:
                return shortened
            room -= max(4, room // 16)
        return self.cut_to(marker(total), tokens)

    def cut_from_start(self, text: str, tokens: int) -> str:
        """The start of ``text`` that fits in ``tokens`` (an exact slice of it)."""
        return self._longest_fitting(text, tokens, lambda n: text[:n])

    def cut_to(self, text: str, tokens: int) -> str:
        """The end of ``text`` that fits in ``tokens`` (an exact slice of it)."""
        return self._longest_fitting(text, tokens, lambda n: text[len(text) - n :])

    def _longest_fitting(self, text: str, tokens: int, part: Callable[[int], str]) -> str:
        """The longest ``part(n)`` of ``text`` whose count fits in ``tokens`` (bisection)."""
        if tokens <= 0:
            return ""
        if self.count_text(text) <= tokens:
            return text
        low, high = 0, len(text)
        while low < high:
            mid = (low + high + 1) // 2
            if self._count_uncached(part(mid)) <= tokens:
                low = mid
            else:
                high = mid - 1
        return part(low)

    @abstractmethod
    def observe(self, counted: int, reported: int) -> None:
        """Learn from what Ollama reported for a prompt we counted."""


class ExactCounter(_CountingBase):
    """Exact counts with the model's own vocabulary (and, given a shape, its template).

    A text is split at the vocabulary's special tokens first, as llama.cpp tokenizes a
    prompt (a special token written anywhere, a user's text included, is one token);
    each piece between them is counted with the vocabulary's split rule and merges.
    """

    def __init__(
        self,
        encoding: tiktoken.Encoding,
        overhead: TemplateOverhead,
        shape: PromptShape | None = None,
    ) -> None:
        super().__init__(overhead, shape)
        self.encoding = encoding
        self.exact = self.shape.template is not None
        specials = sorted(encoding.special_tokens_set, key=len, reverse=True)
        self._specials = re.compile("|".join(map(re.escape, specials))) if specials else None
        self._pieces: dict[str, int] = {}

    def _count_uncached(self, text: str) -> int:
        if self._specials is None:
            return len(self.encoding.encode_ordinary(text))
        count = 0
        start = 0
        encode = self.encoding.encode_ordinary
        for match in self._specials.finditer(text):
            if match.start() > start:
                count += len(encode(text[start : match.start()]))
            count += 1
            start = match.end()
        if start < len(text):
            count += len(encode(text[start:]))
        return count

    def _count_rendered(self, text: str) -> int:
        """A rendered prompt's tokens, each piece between special tokens counted once."""
        if self._specials is None:
            return len(self.encoding.encode_ordinary(text))
        pieces = self._specials.split(text)
        specials = len(pieces) - 1
        cache = self._pieces
        total = specials
        encode = self.encoding.encode_ordinary
        for piece in pieces:
            if not piece:
                continue
            found = cache.get(piece)
            if found is None:
                found = len(encode(piece))
                if len(cache) >= CACHE_LIMIT:
                    cache.clear()
                cache[piece] = found
            total += found
        return total

    def _count_many(self, texts: list[str]) -> list[int]:
        if self._specials is None and len(texts) >= 4 and sum(map(len, texts)) >= 4096 * len(texts):
            # tiktoken's batch runs one thread task per text: worth it for long texts only
            return [len(ids) for ids in self.encoding.encode_ordinary_batch(texts)]
        return [self._count_uncached(t) for t in texts]

    def _token_ends(self, text: str) -> tuple[bytes, list[int]]:
        """The text's UTF-8 bytes and the byte offset where each of its tokens ends."""
        data = text.encode("utf-8", "surrogatepass")
        ids = self.encoding.encode(text, allowed_special="all")
        ends: list[int] = []
        offset = 0
        for piece in self.encoding.decode_tokens_bytes(ids):
            offset += len(piece)
            ends.append(offset)
        return data, ends

    def cut_to(self, text: str, tokens: int) -> str:
        """The end of ``text`` that fits in ``tokens`` (an exact slice, whole characters)."""
        if tokens <= 0:
            return ""
        if self.count_text(text) <= tokens:
            return text
        data, ends = self._token_ends(text)
        keep = tokens
        while keep > 0:
            start = ends[len(ends) - keep - 1] if keep < len(ends) else 0
            while start < len(data) and (data[start] & 0xC0) == 0x80:
                start += 1  # never begin inside a character
            tail = data[start:].decode("utf-8", "surrogatepass")
            if self._count_uncached(tail) <= tokens:
                return tail
            keep -= 1
        return ""

    def cut_from_start(self, text: str, tokens: int) -> str:
        """The start of ``text`` that fits in ``tokens`` (an exact slice, whole characters)."""
        if tokens <= 0:
            return ""
        if self.count_text(text) <= tokens:
            return text
        data, ends = self._token_ends(text)
        keep = min(tokens, len(ends))
        while keep > 0:
            end = ends[keep - 1]
            while end > 0 and end < len(data) and (data[end] & 0xC0) == 0x80:
                end -= 1  # never end inside a character
            head = data[:end].decode("utf-8", "surrogatepass")
            if self._count_uncached(head) <= tokens:
                return head
            keep -= 1
        return ""

    def observe(self, counted: int, reported: int) -> None:
        """Nothing to learn: the counts are exact."""


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

    def __init__(self, overhead: TemplateOverhead, shape: PromptShape | None = None) -> None:
        super().__init__(overhead, shape)
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
