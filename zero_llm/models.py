"""The ``ChatOllama`` of each model, built in exactly one place.

In: a ``ModelSpec``, the settings and the model's fixed ``num_ctx``. Out: a
``ChatOllama`` whose clients share one SSL context and zero_llm's timeouts, with
reasoning on for thinking models and ``truncate: false`` added on the wire.
``ChatModelPool`` keeps one per (event loop, model), since the async httpx client
inside cannot be used from another loop.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from typing import Any

import httpx
from langchain_ollama import ChatOllama

from zero_llm.backend import client_kwargs, shared_ssl_context
from zero_llm.catalog import ModelSpec
from zero_llm.settings import ZeroLLMSettings

__all__ = ["ChatModelPool", "RefuseTruncationTransport", "build_chat_model"]


def build_chat_model(spec: ModelSpec, settings: ZeroLLMSettings, num_ctx: int) -> ChatOllama:
    """Build the ChatOllama for ``spec`` with its one fixed ``num_ctx``."""
    async_kwargs: dict[str, Any] = {}
    if settings.window.refuse_truncation:
        async_kwargs["transport"] = RefuseTruncationTransport(
            verify=shared_ssl_context(), retries=0
        )
    return ChatOllama(
        model=spec.name,
        base_url=settings.ollama_base_url,
        num_ctx=num_ctx,
        num_predict=spec.num_predict,
        temperature=spec.temperature,
        keep_alive=spec.keep_alive,
        reasoning=True if spec.think else None,
        client_kwargs=client_kwargs(settings.timeouts),
        async_client_kwargs=async_kwargs,
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

    async def aclose(self) -> None:
        """Close the HTTP connections of the running loop's chat models."""
        models = self._by_loop.pop(asyncio.get_running_loop(), {})
        for model in models.values():
            await model._async_client._client.aclose()


class RefuseTruncationTransport(httpx.AsyncHTTPTransport):
    """Adds ``"truncate": false`` to chat and generate requests on their way out.

    ChatOllama has no field for it, and the ollama client's ``chat`` takes no such
    argument, so it is set here, at the HTTP layer: Ollama then answers an over-long
    prompt with an error instead of silently dropping its beginning. Servers that do not
    know the field ignore it.
    """

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send the request, with ``truncate: false`` added to model requests."""
        if request.method == "POST" and request.url.path.endswith(TRUNCATING_PATHS):
            body = request.content
            if len(body) > 2 and body.startswith(b"{") and b'"truncate"' not in body:
                body = b'{"truncate":false,' + body[1:]
                headers = [(k, v) for k, v in request.headers.raw if k.lower() != b"content-length"]
                request = httpx.Request(
                    request.method,
                    request.url,
                    headers=headers,
                    content=body,
                    extensions=request.extensions,
                )
        return await super().handle_async_request(request)


TRUNCATING_PATHS = ("/api/chat", "/api/generate")
