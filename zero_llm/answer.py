"""What a query gives back: the answer text and everything known about how it was made.

``Answer`` is a ``str`` (ZERO's agents use it as text) that also carries the trace:
the model that answered, the route and its reason, retries, fallbacks, thinking, token
counts and timings. ``CallTrace`` is filled in by the query core and its calls as the call runs.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from zero_llm.routing.router import RouteDecision

__all__ = ["Answer", "AnswerStream", "CallTrace", "FallbackStep", "RetryStep", "collect_answer"]


@dataclass(frozen=True)
class RetryStep:
    """One failed attempt that was retried."""

    model: str
    attempt: int
    error_type: str
    message: str
    backoff_s: float
    host: str | None = None
    """The Ollama host the attempt failed on."""
    at: float = field(default_factory=time.time)
    """When the attempt failed (seconds since the epoch)."""


@dataclass(frozen=True)
class FallbackStep:
    """One model given up on, and why, before the next in the chain was tried."""

    model: str
    error_type: str
    message: str
    at: float = field(default_factory=time.time)
    """When the model was given up (seconds since the epoch)."""


@dataclass
class CallTrace:
    """Everything measured about one query, filled in while it runs."""

    requested_model: str
    route: RouteDecision | None = None
    session_id: str | None = None
    streamed: bool = False
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    model: str | None = None
    num_ctx: int | None = None
    attempts: int = 0
    retries: list[RetryStep] = field(default_factory=list)
    fallbacks: list[FallbackStep] = field(default_factory=list)
    pulled: list[str] = field(default_factory=list)
    error_type: str | None = None
    error: str | None = None
    started_at: float = field(default_factory=time.time)
    started: float = field(default_factory=time.perf_counter)
    first_token_s: float | None = None
    latency_s: float | None = None
    prompt_tokens: int | None = None
    prompt_tokens_counted: int | None = None
    dropped_messages: int = 0
    cut_message: bool = False
    truncation_suspected: bool = False
    output_tokens: int | None = None
    load_duration_s: float | None = None
    prompt_eval_duration_s: float | None = None
    eval_duration_s: float | None = None
    done_reason: str | None = None
    thinking: str = ""
    complete: bool = False
    history_error: str | None = None
    host: str | None = None
    """The Ollama host that served the call."""
    cancelled: bool = False
    """The caller stopped reading the stream before it ended."""
    tool_model: str | None = None
    """The tool-capable model that made the tool calls, when it was not the answering one."""
    queue_wait_s: float | None = None
    """Seconds waited for a model swap or a queue before the call could start."""
    cold_load: str | None = None
    """What a cold load did, e.g. "cold load of X (evicting Y)"."""
    conversation_role: str | None = None
    """The role the conversation is on (kept by every step of a tool loop)."""
    tool_calling: str | None = None
    """How tools were called: ``native``, ``structured`` (Ollama's ``format``),
    ``tool_model`` or ``gather_then_answer``; None without tools."""
    dropped_rounds: int = 0
    """Whole tool rounds left out to fit the window."""
    cut_messages: int = 0
    """Messages (tool results) cut in the middle to fit the window."""
    evicted: tuple[str, ...] = ()
    """The models that cold load was expected to push out of memory."""

    def mark_first_token(self) -> None:
        """Note the time to the first chunk (once)."""
        if self.first_token_s is None:
            self.first_token_s = time.perf_counter() - self.started

    def finish(self, error: BaseException | None = None) -> None:
        """Note the end of the call, and its error if it failed (the first call counts)."""
        if self.latency_s is not None:
            return
        self.latency_s = time.perf_counter() - self.started
        if isinstance(error, GeneratorExit | asyncio.CancelledError):
            self.cancelled = True  # the caller stopped: not a failure of the call
        elif error is not None:
            self.error_type = type(error).__name__
            self.error = str(error)
        else:
            self.complete = True

    def absorb_metadata(self, metadata: dict[str, Any]) -> None:
        """Take Ollama's final counts and durations (ChatOllama's ``response_metadata``)."""
        if not metadata:
            return
        if (value := metadata.get("prompt_eval_count")) is not None:
            self.prompt_tokens = int(value)
        if (value := metadata.get("eval_count")) is not None:
            self.output_tokens = int(value)
        for key, attr in (
            ("load_duration", "load_duration_s"),
            ("prompt_eval_duration", "prompt_eval_duration_s"),
            ("eval_duration", "eval_duration_s"),
        ):
            if (value := metadata.get(key)) is not None:
                setattr(self, attr, value / 1e9)
        if (reason := metadata.get("done_reason")) is not None:
            self.done_reason = str(reason)

    @property
    def status(self) -> str:
        """``ok``, ``error``, or ``cancelled`` (the caller stopped a stream early)."""
        if self.cancelled:
            return "cancelled"
        return "error" if self.error_type is not None else "ok"

    @property
    def fallback_note(self) -> str | None:
        """The note "answered by X instead of Y because Z" when a fallback answered, else None."""
        if not self.fallbacks or self.model is None or self.model == self.requested_model:
            return None
        reasons = "; then ".join(
            f"{step.model} failed ({step.error_type}: {_short(step.message)})"
            for step in self.fallbacks
        )
        return f"answered by {self.model} instead of {self.requested_model} because {reasons}"

    @property
    def tokens_per_second(self) -> float | None:
        """Output tokens per second of generation, when Ollama reported both."""
        if self.output_tokens is None or not self.eval_duration_s:
            return None
        return self.output_tokens / self.eval_duration_s

    def metadata(self) -> dict[str, Any]:
        """A plain dict of the trace, for response metadata and logs."""
        data = asdict(self)
        data.pop("started")
        data["tokens_per_second"] = self.tokens_per_second
        data["status"] = self.status
        data["fallback_note"] = self.fallback_note
        if self.route is not None:
            data["route"] = asdict(self.route)
        return data


class Answer(str):
    """The answer text, carrying the call's trace (``answer.trace``)."""

    trace: CallTrace

    def __new__(cls, text: str, trace: CallTrace) -> Answer:
        """Make the answer text with its trace attached."""
        obj = super().__new__(cls, text)
        obj.trace = trace
        return obj

    @property
    def model(self) -> str | None:
        """The model that answered (after any fallback)."""
        return self.trace.model

    @property
    def thinking(self) -> str:
        """The model's thinking, kept apart from the answer (reasoning models)."""
        return self.trace.thinking

    @property
    def route(self) -> RouteDecision | None:
        """The routing decision and its reason, when the request was routed."""
        return self.trace.route

    @property
    def text(self) -> str:
        """The answer as a plain str."""
        return str.__str__(self)

    def __repr__(self) -> str:
        """The text (cut to 60 characters) and how it was made: model, latency, tokens."""
        trace = self.trace
        text = self.text if len(self.text) <= 60 else self.text[:59] + "…"
        parts = [repr(text), f"model={trace.model!r}"]
        if trace.latency_s is not None:
            parts.append(f"latency={trace.latency_s:.2f}s")
        if trace.prompt_tokens is not None or trace.output_tokens is not None:
            parts.append(f"tokens={trace.prompt_tokens}/{trace.output_tokens}")
        if trace.fallbacks:
            parts.append(f"fallbacks={[f.model for f in trace.fallbacks]!r}")
        if trace.status != "ok":
            parts.append(f"status={trace.status!r}")
        return f"Answer({', '.join(parts)})"


async def collect_answer(chunks: AsyncIterator[Any], trace: CallTrace) -> Answer:
    """Drain the manager's chunks into an ``Answer`` (its trace is filled in by then)."""
    parts = [chunk.text async for chunk in chunks if chunk.content]
    return Answer("".join(parts), trace)


class AnswerStream:
    """The text of an answer as it arrives (``async for chunk in stream``).

    After the stream ends, ``answer`` holds the whole ``Answer`` with its trace. A stream
    is retried only before its first chunk; a failure after it raises
    ``StreamInterruptedError`` with the text received so far in ``partial_text``.
    """

    def __init__(self, chunks: AsyncIterator[Any], trace: CallTrace) -> None:
        self._chunks = chunks
        self.trace = trace
        self.answer: Answer | None = None
        self.on_thinking: Callable[[str], None] | None = None
        """Called with each piece of the model's thinking as it arrives (None: not shown)."""
        self._started = False
        self._text_iterator = self._texts()

    def __aiter__(self) -> AsyncIterator[str]:
        if self._started:
            raise RuntimeError("an AnswerStream can be iterated only once")
        self._started = True
        return self._text_iterator

    async def aclose(self) -> None:
        """Stop reading: the request to Ollama is cancelled and recorded as ``cancelled``."""
        await self._text_iterator.aclose()

    async def _texts(self) -> AsyncGenerator[str, None]:
        parts: list[str] = []
        try:
            async for chunk in self._chunks:
                if self.on_thinking is not None:
                    reasoning = chunk.additional_kwargs.get("reasoning_content")
                    if reasoning:
                        self.on_thinking(reasoning)
                if chunk.content:
                    text = chunk.text
                    parts.append(text)
                    yield text
        finally:
            aclose = getattr(self._chunks, "aclose", None)
            if aclose is not None:
                await aclose()
        self.answer = Answer("".join(parts), self.trace)

    async def text(self) -> Answer:
        """Read the rest of the stream and return the whole answer."""
        async for _ in self:
            pass
        assert self.answer is not None
        return self.answer


def _short(text: str, limit: int = 160) -> str:
    """``text`` on one line, cut to ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
