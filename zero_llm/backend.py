"""The one place that speaks to Ollama for model lifecycle, and the error boundary.

In: an Ollama base URL and timeouts. Out: typed facts (``ModelFacts``, ``LoadedModel``,
``PullProgress``) and, for every failure of ``httpx`` or the ``ollama`` client, a
``ZeroLLMError`` subclass (``translate_error``), raised ``from`` the original.
Clients are built lazily, one per event loop (an httpx async client cannot cross loops),
all sharing one SSL context so that building them is cheap.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import httpx
import ollama

from zero_llm.errors import (
    ContextOverflowError,
    ModelNotFoundError,
    OllamaBusyError,
    OllamaError,
    OllamaRequestError,
    OllamaServerError,
    OllamaTimeoutError,
    OllamaUnavailableError,
    ZeroLLMError,
)
from zero_llm.settings import TimeoutSettings

__all__ = [
    "LoadedModel",
    "ModelFacts",
    "OllamaBackend",
    "PullProgress",
    "shared_ssl_context",
    "translate_error",
]


@cache
def shared_ssl_context() -> ssl.SSLContext:
    """One default SSL context for every client zero_llm builds (loading CA files is slow)."""
    return ssl.create_default_context()


def http_timeout(timeouts: TimeoutSettings) -> httpx.Timeout:
    """Httpx timeouts: ours for connecting; reads bounded by the longest wait we allow."""
    read = max(timeouts.first_token, timeouts.stall, timeouts.response, timeouts.total)
    return httpx.Timeout(connect=timeouts.connect, read=read, write=read, pool=read)


def client_kwargs(timeouts: TimeoutSettings) -> dict[str, Any]:
    """Keyword arguments for ``ollama.Client``/``AsyncClient`` (and ChatOllama's clients)."""
    return {"timeout": http_timeout(timeouts), "verify": shared_ssl_context()}


def translate_error(
    exc: BaseException, *, model: str | None = None, host: str = ""
) -> ZeroLLMError:
    """Map an exception from httpx, ollama or the stream into the zero_llm error tree."""
    if isinstance(exc, ZeroLLMError):
        return exc
    where = f" at {host}" if host else ""
    if isinstance(exc, ollama.ResponseError):
        status = exc.status_code
        text = exc.error or str(exc)
        if status == 404 or ("not found" in text and status in (-1, 500)):
            return ModelNotFoundError(
                f"model {model!r} is not present in Ollama{where}: pull it "
                f"(`ollama pull {model}` or `zero-llm pull {model}`) or enable auto_pull",
                model=model,
                status_code=status,
            )
        if status in (429, 503):
            return OllamaBusyError(
                f"Ollama is busy ({status}): {text}", model=model, status_code=status
            )
        if status == 400 and "context length" in text:
            return ContextOverflowError(
                f"Ollama refused a prompt longer than {model!r}'s context window: {text}",
                needed=None,
                budget=None,
            )
        if status == -1 or status >= 500:
            return OllamaServerError(
                f"Ollama failed ({status}): {text}",
                model=model,
                status_code=None if status == -1 else status,
            )
        return OllamaRequestError(
            f"Ollama rejected the request ({status}): {text}", model=model, status_code=status
        )
    if isinstance(exc, httpx.TimeoutException | TimeoutError | asyncio.TimeoutError):
        return OllamaTimeoutError(f"Ollama{where} did not answer in time: {exc!r}", model=model)
    if isinstance(
        exc,
        ConnectionError
        | httpx.ConnectError
        | httpx.ReadError
        | httpx.WriteError
        | httpx.RemoteProtocolError
        | httpx.CloseError,
    ):
        if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
            return OllamaServerError(f"the connection to Ollama{where} broke: {exc}", model=model)
        return OllamaUnavailableError(
            f"cannot reach Ollama{where}: {exc}. Is it running? Start it with `ollama serve` "
            "or point OLLAMA_HOST at it",
            model=model,
        )
    if isinstance(exc, json.JSONDecodeError):
        return OllamaServerError(f"Ollama sent a malformed stream line: {exc}", model=model)
    if isinstance(exc, httpx.HTTPError):
        return OllamaServerError(f"HTTP error talking to Ollama{where}: {exc}", model=model)
    return OllamaError(f"unexpected failure talking to Ollama{where}: {exc!r}", model=model)


@dataclass(frozen=True)
class ModelFacts:
    """What ``/api/show`` says about a model that matters to us."""

    name: str
    context_length: int | None
    capabilities: tuple[str, ...]
    family: str | None
    parameter_size: str | None
    model_info: dict[str, Any]
    template: str | None = None


@dataclass(frozen=True)
class LoadedModel:
    """A model in Ollama's memory (``/api/ps``)."""

    name: str
    size_vram: int | None
    context_length: int | None
    expires_at: datetime | None


@dataclass(frozen=True)
class PullProgress:
    """One step of a pull: status, and for layers the bytes done out of the total."""

    status: str
    digest: str | None = None
    total: int | None = None
    completed: int | None = None


ProgressCallback = Callable[[PullProgress], None]


class OllamaBackend:
    """Lifecycle calls to one Ollama server: tags, show, pull, ps, load, unload.

    Args:
        base_url: the server's URL.
        timeouts: deadlines for connecting and reading.
    """

    def __init__(self, base_url: str, timeouts: TimeoutSettings) -> None:
        self.base_url = base_url
        self.timeouts = timeouts
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ollama.AsyncClient]
        self._clients = weakref.WeakKeyDictionary()

    def client(self) -> ollama.AsyncClient:
        """The async client for the running event loop (built once per loop)."""
        loop = asyncio.get_running_loop()
        found = self._clients.get(loop)
        if found is None:
            found = ollama.AsyncClient(host=self.base_url, **client_kwargs(self.timeouts))
            self._clients[loop] = found
        return found

    async def aclose(self) -> None:
        """Close the running loop's HTTP connections to Ollama."""
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client._client.aclose()

    def _fail(self, exc: BaseException, model: str | None) -> ZeroLLMError:
        return translate_error(exc, model=model, host=self.base_url)

    async def version(self) -> str:
        """Ollama's version string (also a cheap liveness check)."""
        try:
            response = await self.client()._request_raw("GET", "/api/version")
            return str(response.json().get("version", ""))
        except Exception as exc:
            raise self._fail(exc, None) from exc

    async def present_models(self) -> set[str]:
        """Names of the models present on the server (``/api/tags``)."""
        try:
            listing = await self.client().list()
        except Exception as exc:
            raise self._fail(exc, None) from exc
        return {m.model for m in listing.models if m.model}

    async def digest(self, name: str) -> str | None:
        """The digest of a present model (``/api/tags``), or None when it is absent."""
        try:
            listing = await self.client().list()
        except Exception as exc:
            raise self._fail(exc, name) from exc
        return next((m.digest for m in listing.models if m.model == name), None)

    async def show(self, name: str) -> ModelFacts:
        """The facts of one model (``/api/show``); ModelNotFoundError when absent."""
        try:
            info = await self.client().show(name)
        except Exception as exc:
            raise self._fail(exc, name) from exc
        model_info = dict(info.modelinfo or {})
        arch = model_info.get("general.architecture")
        length = model_info.get(f"{arch}.context_length") if arch else None
        details = info.details
        return ModelFacts(
            name=name,
            context_length=int(length) if isinstance(length, int | float) else None,
            capabilities=tuple(info.capabilities or ()),
            family=details.family if details else None,
            parameter_size=details.parameter_size if details else None,
            model_info=model_info,
            template=info.template,
        )

    async def show_verbose(self, name: str) -> dict[str, Any]:
        """The raw ``/api/show`` answer with ``verbose`` (full tokenizer arrays)."""
        try:
            response = await self.client()._request_raw(
                "POST", "/api/show", json={"model": name, "verbose": True}
            )
            return dict(response.json())
        except Exception as exc:
            raise self._fail(exc, name) from exc

    async def pull(self, name: str, progress: ProgressCallback | None = None) -> None:
        """Pull a model, reporting each progress line; ModelNotFoundError if unknown."""
        try:
            async for part in await self.client().pull(name, stream=True):
                if progress is not None:
                    progress(
                        PullProgress(part.status or "", part.digest, part.total, part.completed)
                    )
        except ollama.ResponseError as exc:
            raise ModelNotFoundError(
                f"Ollama at {self.base_url} cannot pull {name!r}: {exc.error}. "
                "Check the name and tag (see https://ollama.com/library)",
                model=name,
                status_code=exc.status_code,
            ) from exc
        except Exception as exc:
            raise self._fail(exc, name) from exc

    async def loaded(self) -> list[LoadedModel]:
        """The models in memory now (``/api/ps``)."""
        try:
            response = await self.client().ps()
        except Exception as exc:
            raise self._fail(exc, None) from exc
        return [
            LoadedModel(m.model or m.name or "", m.size_vram, m.context_length, m.expires_at)
            for m in response.models
        ]

    async def load(self, name: str, num_ctx: int, keep_alive: str | int) -> float:
        """Load a model with ``num_ctx`` and keep it for ``keep_alive``; return load seconds."""
        started = time.perf_counter()
        try:
            response = await self.client().chat(
                model=name, messages=[], keep_alive=keep_alive, options={"num_ctx": num_ctx}
            )
        except Exception as exc:
            raise self._fail(exc, name) from exc
        if response.load_duration:
            return response.load_duration / 1e9
        return time.perf_counter() - started

    async def unload(self, name: str) -> None:
        """Evict a model from memory now (``keep_alive: 0``)."""
        try:
            await self.client().chat(model=name, messages=[], keep_alive=0)
        except Exception as exc:
            raise self._fail(exc, name) from exc
