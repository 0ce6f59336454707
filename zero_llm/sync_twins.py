"""Blocking twins of async methods, made by one mechanism.

In: an async method of a class whose instances have a ``bridge`` (a ``SyncBridge``), and
optionally the attribute that holds the object the method belongs to. Out: a blocking
method that runs the same coroutine on the bridge's loop (so it works in scripts and in
Jupyter's running loop); an ``AnswerStream`` it returns comes back as a
``SyncAnswerStream``, an iterator of text for sync callers. No method body is written
twice: ``load_model_sync = sync_twin(load_model)``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, Concatenate, ParamSpec, TypeVar

from zero_llm.answer import Answer, AnswerStream, CallTrace
from zero_llm.sync_bridge import SyncBridge

__all__ = ["SyncAnswerStream", "sync_stream_twin", "sync_twin", "sync_twin_of"]

P = ParamSpec("P")
T = TypeVar("T")
S = TypeVar("S")


class SyncAnswerStream(Iterator[str]):
    """The text of an answer as it arrives, for sync callers; ``answer`` once it ends."""

    def __init__(self, stream: AnswerStream, bridge: SyncBridge) -> None:
        self._stream = stream
        self._chunks = bridge.iterate(aiter(stream))

    def __next__(self) -> str:
        return next(self._chunks)

    @property
    def answer(self) -> Answer | None:
        """The whole answer with its trace, once the stream has ended."""
        return self._stream.answer

    @property
    def trace(self) -> CallTrace:
        """The call's trace, filled in as the stream runs."""
        return self._stream.trace

    def close(self) -> None:
        """Stop reading; the request to Ollama is cancelled."""
        self._chunks.close()  # type: ignore[attr-defined]


def _blocking(
    method: Callable[..., Coroutine[Any, Any, Any]], owner: str | None
) -> Callable[..., Any]:
    """The one blocking runner: the method's coroutine on the bridge, a stream made sync."""

    @functools.wraps(method)
    def blocking(self: Any, *args: Any, **kwargs: Any) -> Any:
        target = getattr(self, owner) if owner else self
        bridge: SyncBridge = self.bridge
        result: Any = bridge.run(method(target, *args, **kwargs))
        if isinstance(result, AnswerStream):
            return SyncAnswerStream(result, bridge)
        return result

    blocking.__doc__ = (
        f"Blocking twin of ``{method.__name__}``: the same call, run on the sync bridge."
    )
    return blocking


def sync_twin(
    method: Callable[Concatenate[S, P], Coroutine[Any, Any, T]],
) -> Callable[Concatenate[S, P], T]:
    """The blocking twin of an async method of the same class."""
    return _blocking(method, None)


def sync_twin_of(
    owner: str, method: Callable[Concatenate[S, P], Coroutine[Any, Any, T]]
) -> Callable[Concatenate[Any, P], T]:
    """The blocking twin of an async method of the object held in attribute ``owner``."""
    return _blocking(method, owner)


def sync_stream_twin(
    method: Callable[Concatenate[S, P], Coroutine[Any, Any, Answer | AnswerStream]],
) -> Callable[Concatenate[S, P], Answer | SyncAnswerStream]:
    """The blocking twin of a method that answers whole or as a stream (a text iterator)."""
    return _blocking(method, None)
