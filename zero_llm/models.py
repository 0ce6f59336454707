"""The ``ChatOllama`` of each model, built in exactly one place.

In: a ``ModelSpec``, the settings and the model's fixed ``num_ctx``. Out: a
``ChatOllama`` whose clients share one SSL context and zero_llm's timeouts, with
reasoning on for thinking models. ``ChatModelPool`` keeps one per (event loop, model),
since the async httpx client inside cannot be used from another loop.
"""

from __future__ import annotations

import asyncio
import threading
import weakref

from langchain_ollama import ChatOllama

from zero_llm.backend import client_kwargs
from zero_llm.catalog import ModelSpec
from zero_llm.settings import ZeroLLMSettings

__all__ = ["ChatModelPool", "build_chat_model"]


def build_chat_model(spec: ModelSpec, settings: ZeroLLMSettings, num_ctx: int) -> ChatOllama:
    """Build the ChatOllama for ``spec`` with its one fixed ``num_ctx``."""
    return ChatOllama(
        model=spec.name,
        base_url=settings.ollama_base_url,
        num_ctx=num_ctx,
        num_predict=spec.num_predict,
        temperature=spec.temperature,
        keep_alive=spec.keep_alive,
        reasoning=True if spec.think else None,
        client_kwargs=client_kwargs(settings.timeouts),
    )


class ChatModelPool:
    """ChatOllama instances per (event loop, model name, num_ctx), built lazily, once."""

    def __init__(self, settings: ZeroLLMSettings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._by_loop: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[tuple[ModelSpec, int], ChatOllama]
        ] = weakref.WeakKeyDictionary()

    def get(self, spec: ModelSpec, num_ctx: int) -> ChatOllama:
        """The chat model for ``spec`` on the running loop."""
        loop = asyncio.get_running_loop()
        models = self._by_loop.get(loop)
        if models is None:
            with self._lock:
                models = self._by_loop.setdefault(loop, {})
        key = (spec, num_ctx)
        model = models.get(key)
        if model is None:
            model = models[key] = build_chat_model(spec, self._settings, num_ctx)
        return model
