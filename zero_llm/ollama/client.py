"""The one place that speaks to an Ollama server: model lifecycle and the chat call.

In: an Ollama base URL, timeouts and whether to refuse silent truncation. Out: typed
facts (``ShownModel``, ``LoadedModel``, ``PullProgress``), the parts of a chat answer,
and for every failure of ``httpx`` or the ``ollama`` client a ``ZeroLLMError`` subclass
(``zero_llm.ollama.translate``), raised ``from`` the original; anything else propagates.
Only public APIs: ``ollama.AsyncClient`` for what it offers, a plain ``httpx.AsyncClient``
for the two endpoints it does not (``/api/version``, verbose ``/api/show``). Clients are
built lazily, one per event loop (an httpx async client cannot cross loops), sharing one
SSL context so that building them is cheap.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import httpx
import ollama

from zero_llm.ollama.translate import translate_error, translate_pull_error
from zero_llm.settings import TimeoutSettings

__all__ = [
    "LoadedModel",
    "OllamaBackend",
    "PullProgress",
    "RefuseTruncationTransport",
    "ShownModel",
    "shared_ssl_context",
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


@dataclass(frozen=True)
class ShownModel:
    """What ``/api/show`` says about a model that matters to us."""

    name: str
    context_length: int | None
    capabilities: tuple[str, ...]
    family: str | None
    parameter_size: str | None
    model_info: dict[str, Any]
    template: str | None = None
    system: str | None = None
    """The Modelfile's default system prompt, which Ollama adds when a chat has none."""
    parameters: str | None = None
    """The Modelfile's parameters as Ollama lists them (``stop "<|im_end|>"`` lines)."""


@dataclass(frozen=True)
class LoadedModel:
    """A model in Ollama's memory (``/api/ps``)."""

    name: str
    size_vram: int | None
    context_length: int | None
    expires_at: datetime | None
    size: int | None = None
    """Bytes in all; above ``size_vram`` the rest runs on the CPU."""


@dataclass(frozen=True)
class PullProgress:
    """One step of a pull: status, and for layers the bytes done out of the total."""

    status: str
    digest: str | None = None
    total: int | None = None
    completed: int | None = None


ProgressCallback = Callable[[PullProgress], None]


MAX_LINE_BYTES = 64 * 2**20
"""Longest line (an NDJSON stream's line, or a whole JSON body) read from a server: a real
model's verbose ``/api/show`` with its vocabulary is under 16 MiB; a server sending more
without a newline is broken or hostile, and memory must stay bounded."""


class LineTooLongError(httpx.RemoteProtocolError):
    """The server sent more than ``MAX_LINE_BYTES`` without a newline."""


class _BoundedLines(httpx.AsyncByteStream):
    """A response body that fails once a line grows past the limit."""

    def __init__(self, stream: httpx.AsyncByteStream, limit: int) -> None:
        self._stream = stream
        self._limit = limit

    async def __aiter__(self) -> AsyncIterator[bytes]:
        run = 0
        async for chunk in self._stream:
            newline = chunk.rfind(b"\n")
            run = len(chunk) - newline - 1 if newline >= 0 else run + len(chunk)
            if run > self._limit:
                raise LineTooLongError(
                    f"the server sent over {self._limit} bytes without a line break"
                )
            yield chunk

    async def aclose(self) -> None:
        await self._stream.aclose()


class BoundedTransport(httpx.AsyncHTTPTransport):
    """An HTTP transport whose response lines are bounded (``MAX_LINE_BYTES``)."""

    line_limit = MAX_LINE_BYTES

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send the request; hand back its response with a bounded body."""
        response = await super().handle_async_request(request)
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_BoundedLines(response.stream, self.line_limit),
            extensions=response.extensions,
            request=request,
        )


class RefuseTruncationTransport(BoundedTransport):
    """Adds ``"truncate": false`` to chat and generate requests on their way out.

    The ollama client's ``chat`` takes no such argument, so it is set here, at the HTTP
    layer: Ollama then answers an over-long prompt with an error instead of silently
    dropping its beginning. Servers that do not know the field ignore it.
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


@dataclass
class _LoopClients:
    """The clients of one event loop: ollama's for its API, httpx's for the rest."""

    api: ollama.AsyncClient
    http: httpx.AsyncClient
    closer: AsyncGenerator[None, None] | None = None
    """Closes both clients when the loop shuts down (see ``_close_with_loop``)."""

    async def aclose(self) -> None:
        """Close both clients' connections."""
        await self.api.close()
        await self.http.aclose()


async def _closer(clients: _LoopClients) -> AsyncGenerator[None, None]:
    """Suspended for the life of a loop; its ``finally`` closes the loop's clients."""
    try:
        yield
    finally:
        await clients.aclose()


def _close_with_loop(clients: _LoopClients) -> None:
    """Have the running loop close ``clients`` when it shuts down.

    ``asyncio.run`` (and ``asyncio.Runner``) close every suspended async generator of the
    loop with ``loop.shutdown_asyncgens()`` while the loop still runs; a generator started
    here and kept suspended is so closed, and its ``finally`` closes the connections.
    Without it each ``asyncio.run`` left one connection per client open for good.
    """
    closer = _closer(clients)
    step = closer.__anext__()  # registers the generator with the running loop
    try:
        step.send(None)  # runs to the ``yield``: it awaits nothing before it
    except StopIteration:
        clients.closer = closer
    else:  # pragma: no cover - the generator awaits nothing before its yield
        raise RuntimeError("the loop-closing generator did not stop at its yield")


class OllamaBackend:
    """Calls to one Ollama server: tags, show, pull, ps, load, unload and chat.

    Args:
        base_url: the server's URL.
        timeouts: deadlines for connecting and reading.
        refuse_truncation: send ``truncate: false`` with chat requests.
    """

    def __init__(
        self, base_url: str, timeouts: TimeoutSettings, *, refuse_truncation: bool = True
    ) -> None:
        self.base_url = base_url
        self.timeouts = timeouts
        self.refuse_truncation = refuse_truncation
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopClients]
        self._clients = weakref.WeakKeyDictionary()

    def _loop_clients(self) -> _LoopClients:
        loop = asyncio.get_running_loop()
        found = self._clients.get(loop)
        if found is None:
            kwargs = client_kwargs(self.timeouts)
            chat_transport = (
                RefuseTruncationTransport if self.refuse_truncation else BoundedTransport
            )
            found = _LoopClients(
                api=ollama.AsyncClient(
                    host=self.base_url,
                    transport=chat_transport(verify=shared_ssl_context(), retries=0),
                    **kwargs,
                ),
                http=httpx.AsyncClient(
                    base_url=self.base_url,
                    transport=BoundedTransport(verify=shared_ssl_context(), retries=0),
                    **kwargs,
                ),
            )
            _close_with_loop(found)
            self._clients[loop] = found
        return found

    @property
    def open_loops(self) -> int:
        """How many event loops have open clients to this server."""
        return len(self._clients)

    def client(self) -> ollama.AsyncClient:
        """The ollama async client for the running event loop (built once per loop)."""
        return self._loop_clients().api

    async def aclose(self) -> None:
        """Close the running loop's HTTP connections to Ollama."""
        clients = self._clients.pop(asyncio.get_running_loop(), None)
        if clients is None:
            return
        if clients.closer is not None:
            await clients.closer.aclose()  # its ``finally`` closes the clients
        else:
            await clients.aclose()

    @contextlib.contextmanager
    def _translated(self, model: str | None, *, pull: bool = False) -> Iterator[None]:
        """Raise transport and Ollama failures as zero_llm errors; let the rest through."""
        try:
            yield
        except Exception as exc:
            if pull and model is not None:
                error = translate_pull_error(exc, model=model, host=self.base_url)
            else:
                error = translate_error(exc, model=model, host=self.base_url)
            if error is None or error is exc:
                raise
            raise error from exc

    async def _get_json(self, method: str, path: str, body: Any = None) -> Any:
        response = await self._loop_clients().http.request(method, path, json=body)
        if response.status_code >= 400:
            try:
                message = str(response.json().get("error", response.text))
            except ValueError:
                message = response.text
            raise ollama.ResponseError(message, response.status_code)
        return response.json()

    async def version(self) -> str:
        """Ollama's version string (also a cheap liveness check)."""
        with self._translated(None):
            body = await self._get_json("GET", "/api/version")
        return str(body.get("version", "")) if isinstance(body, dict) else ""

    async def present_models(self) -> set[str]:
        """Names of the models present on the server (``/api/tags``)."""
        with self._translated(None):
            listing = await self.client().list()
        return {m.model for m in listing.models if m.model}

    async def digest(self, name: str) -> str | None:
        """The digest of a present model (``/api/tags``), or None when it is absent."""
        with self._translated(name):
            listing = await self.client().list()
        return next((m.digest for m in listing.models if m.model == name), None)

    async def sizes(self) -> dict[str, int]:
        """The file size of each present model in bytes (``/api/tags``)."""
        with self._translated(None):
            listing = await self.client().list()
        return {m.model: int(m.size) for m in listing.models if m.model and m.size}

    async def show(self, name: str) -> ShownModel:
        """The facts of one model (``/api/show``); ModelNotFoundError when absent."""
        with self._translated(name):
            body = await self._get_json("POST", "/api/show", {"model": name})
            info = ollama.ShowResponse.model_validate(body)
        model_info = dict(info.modelinfo or {})
        arch = model_info.get("general.architecture")
        length = model_info.get(f"{arch}.context_length") if arch else None
        details = info.details
        system = body.get("system") if isinstance(body, dict) else None
        return ShownModel(
            name=name,
            context_length=int(length) if isinstance(length, int | float) else None,
            capabilities=tuple(info.capabilities or ()),
            family=details.family if details else None,
            parameter_size=details.parameter_size if details else None,
            model_info=model_info,
            template=info.template,
            system=system if isinstance(system, str) and system else None,
            parameters=info.parameters,
        )

    async def show_verbose(self, name: str) -> dict[str, Any]:
        """The raw ``/api/show`` answer with ``verbose`` (full tokenizer arrays)."""
        with self._translated(name):
            body = await self._get_json("POST", "/api/show", {"model": name, "verbose": True})
        return dict(body) if isinstance(body, dict) else {}

    async def pull(self, name: str, progress: ProgressCallback | None = None) -> None:
        """Pull a model, reporting each progress line; ModelNotFoundError if unknown."""
        with self._translated(name, pull=True):
            async for part in await self.client().pull(name, stream=True):
                if progress is not None:
                    progress(
                        PullProgress(part.status or "", part.digest, part.total, part.completed)
                    )

    async def loaded(self) -> list[LoadedModel]:
        """The models in memory now (``/api/ps``)."""
        with self._translated(None):
            response = await self.client().ps()
        return [
            LoadedModel(
                m.model or m.name or "",
                m.size_vram,
                m.context_length,
                m.expires_at,
                m.size,
            )
            for m in response.models
        ]

    async def load(self, name: str, num_ctx: int, keep_alive: str | int) -> float:
        """Load a model with ``num_ctx`` and keep it for ``keep_alive``; return load seconds."""
        started = time.perf_counter()
        with self._translated(name):
            response = await self.client().chat(
                model=name, messages=[], keep_alive=keep_alive, options={"num_ctx": num_ctx}
            )
        if response.load_duration:
            return response.load_duration / 1e9
        return time.perf_counter() - started

    async def unload(self, name: str) -> None:
        """Evict a model from memory now (``keep_alive: 0``)."""
        with self._translated(name):
            await self.client().chat(model=name, messages=[], keep_alive=0)

    async def delete(self, name: str) -> None:
        """Remove a model from the server's disk (``DELETE /api/delete``)."""
        with self._translated(name):
            await self.client().delete(name)

    async def chat(
        self,
        name: str,
        messages: Sequence[dict[str, Any]],
        *,
        stream: bool,
        options: dict[str, Any],
        keep_alive: str | int | None = None,
        tools: Sequence[dict[str, Any]] = (),
        think: bool | None = None,
        format: str | dict[str, Any] | None = None,
    ) -> AsyncGenerator[Any, None]:
        """The parts of one ``/api/chat`` answer (one part when not streamed).

        Failures leave as zero_llm errors (see ``zero_llm.ollama.translate``).
        """
        with self._translated(name):
            answer = await self.client().chat(  # type: ignore[call-overload]
                model=name,
                messages=list(messages),
                tools=list(tools) or None,
                stream=stream,
                think=think,
                format=format,
                options=options,
                keep_alive=keep_alive,
            )
            if not stream:
                yield answer
                return
            parts = answer
            try:
                async for part in parts:
                    yield part
            finally:
                await parts.aclose()
