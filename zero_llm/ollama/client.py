"""The one place that speaks to an Ollama server: model lifecycle and the chat call.

In: an Ollama base URL, timeouts and whether to refuse silent truncation. Out: typed
facts (``ShownModel``, ``LoadedModel``, ``PullProgress``), the parts of a chat answer,
and for every failure of ``httpx`` or the ``ollama`` client a ``ZeroLLMError`` subclass
(``zero_llm.ollama.translate``), raised ``from`` the original; anything else propagates.
Only public APIs: ``ollama.AsyncClient`` for what it offers, a plain ``httpx.AsyncClient``
for the two endpoints it does not (``/api/version``, verbose ``/api/show``).

Where the connections live: a backend's clients are built lazily on its home loop (the
runtime's ``RuntimeHome``: the sync bridge's loop, or the loop that entered the runtime with
``async with``). An httpx pool cannot cross event loops, and callers come from many
(``asyncio.run``, pytest's, Jupyter's, the bridge's for sync calls): each call runs on the
home loop, awaited from the caller's (``RuntimeHome.call``; in place when the caller is
there), and a streamed answer's parts are relayed to the caller as they come
(``RuntimeHome.relay``). ``aclose()`` closes the connections on the loop they were built
on; a backend dropped unclosed has them closed there when it is garbage-collected.
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

from zero_llm.home_loop import Home, forget_in_forked_child, on_home_loop, relayed_from_home_loop
from zero_llm.loop_hop import await_on
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
class _Clients:
    """A backend's clients on its home loop: ollama's for its API, httpx's for the rest."""

    api: ollama.AsyncClient
    http: httpx.AsyncClient
    loop: asyncio.AbstractEventLoop
    """The loop they were built on, the only one that may use or close them."""

    async def aclose(self) -> None:
        """Close both clients' connections."""
        await self.api.close()
        await self.http.aclose()


def _close_dropped(clients: _Clients) -> None:
    """Close the clients of a backend dropped unclosed, on the loop they were built on."""
    loop = clients.loop
    with contextlib.suppress(RuntimeError):  # the home loop is gone (interpreter exit)
        loop.call_soon_threadsafe(lambda: loop.create_task(clients.aclose()))


_on_home = on_home_loop(lambda backend: backend.home)
"""Make a backend method run on its home loop, awaited from whatever loop calls it."""
_relayed = relayed_from_home_loop(lambda backend: backend.home)
"""Make a backend's async-generator method run on its home loop, relayed to the caller."""


class OllamaBackend:
    """Calls to one Ollama server: tags, show, pull, ps, load, unload and chat.

    Args:
        base_url: the server's URL.
        timeouts: deadlines for connecting and reading.
        home: the loop that owns this backend's connections (the runtime's home).
        refuse_truncation: send ``truncate: false`` with chat requests.
    """

    def __init__(
        self,
        base_url: str,
        timeouts: TimeoutSettings,
        home: Home,
        *,
        refuse_truncation: bool = True,
    ) -> None:
        self.base_url = base_url
        self.timeouts = timeouts
        self.home = home
        self.refuse_truncation = refuse_truncation
        self._clients: _Clients | None = None
        self._dropped: weakref.finalize | None = None
        forget_in_forked_child(self)

    def _home_clients(self) -> _Clients:
        """The clients, built on first use; only ever used on the home loop."""
        loop = asyncio.get_running_loop()
        if loop is not self.home.loop:
            raise RuntimeError("Ollama I/O must run on the backend's home loop (_on_home)")
        if self._clients is not None and self._clients.loop is not loop:
            raise RuntimeError("the backend's clients belong to another loop: aclose() first")
        if self._clients is None:
            kwargs = client_kwargs(self.timeouts)
            chat_transport = (
                RefuseTruncationTransport if self.refuse_truncation else BoundedTransport
            )
            self._clients = _Clients(
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
                loop=loop,
            )
            self._dropped = weakref.finalize(self, _close_dropped, self._clients)
        return self._clients

    def forget_after_fork(self) -> None:
        """In a forked child: drop the parent's clients (their sockets are the parent's)."""
        if self._dropped is not None:
            self._dropped.detach()
        self._clients = self._dropped = None

    @property
    def connected(self) -> bool:
        """Whether this backend has open clients (built by a call, not yet closed)."""
        return self._clients is not None

    @property
    def clients_loop(self) -> asyncio.AbstractEventLoop | None:
        """The loop this backend's open clients belong to (None when none is open)."""
        return self._clients.loop if self._clients is not None else None

    async def aclose(self) -> None:
        """Close this backend's connections to Ollama (a later call opens new ones)."""
        clients, self._clients = self._clients, None
        if clients is None:
            return
        if self._dropped is not None:
            self._dropped.detach()
        await await_on(clients.loop, clients.aclose())

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
        response = await self._home_clients().http.request(method, path, json=body)
        if response.status_code >= 400:
            try:
                message = str(response.json().get("error", response.text))
            except ValueError:
                message = response.text
            raise ollama.ResponseError(message, response.status_code)
        return response.json()

    @_on_home
    async def version(self) -> str:
        """Ollama's version string (also a cheap liveness check)."""
        with self._translated(None):
            body = await self._get_json("GET", "/api/version")
        return str(body.get("version", "")) if isinstance(body, dict) else ""

    @_on_home
    async def present_models(self) -> set[str]:
        """Names of the models present on the server (``/api/tags``)."""
        with self._translated(None):
            listing = await self._home_clients().api.list()
        return {m.model for m in listing.models if m.model}

    @_on_home
    async def digest(self, name: str) -> str | None:
        """The digest of a present model (``/api/tags``), or None when it is absent."""
        with self._translated(name):
            listing = await self._home_clients().api.list()
        return next((m.digest for m in listing.models if m.model == name), None)

    @_on_home
    async def sizes(self) -> dict[str, int]:
        """The file size of each present model in bytes (``/api/tags``)."""
        with self._translated(None):
            listing = await self._home_clients().api.list()
        return {m.model: int(m.size) for m in listing.models if m.model and m.size}

    @_on_home
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

    @_on_home
    async def show_verbose(self, name: str) -> dict[str, Any]:
        """The raw ``/api/show`` answer with ``verbose`` (full tokenizer arrays)."""
        with self._translated(name):
            body = await self._get_json("POST", "/api/show", {"model": name, "verbose": True})
        return dict(body) if isinstance(body, dict) else {}

    async def pull(self, name: str, progress: ProgressCallback | None = None) -> None:
        """Pull a model, reporting each progress line; ModelNotFoundError if unknown."""
        async for step in self._pull_steps(name):
            if progress is not None:
                progress(step)

    @_relayed
    async def _pull_steps(self, name: str) -> AsyncIterator[PullProgress]:
        with self._translated(name, pull=True):
            async for part in await self._home_clients().api.pull(name, stream=True):
                yield PullProgress(part.status or "", part.digest, part.total, part.completed)

    @_on_home
    async def loaded(self) -> list[LoadedModel]:
        """The models in memory now (``/api/ps``)."""
        with self._translated(None):
            response = await self._home_clients().api.ps()
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

    @_on_home
    async def load(self, name: str, num_ctx: int, keep_alive: str | int) -> float:
        """Load a model with ``num_ctx`` and keep it for ``keep_alive``; return load seconds."""
        started = time.perf_counter()
        with self._translated(name):
            response = await self._home_clients().api.chat(
                model=name, messages=[], keep_alive=keep_alive, options={"num_ctx": num_ctx}
            )
        if response.load_duration:
            return response.load_duration / 1e9
        return time.perf_counter() - started

    @_on_home
    async def unload(self, name: str) -> None:
        """Evict a model from memory now (``keep_alive: 0``)."""
        with self._translated(name):
            await self._home_clients().api.chat(model=name, messages=[], keep_alive=0)

    @_on_home
    async def delete(self, name: str) -> None:
        """Remove a model from the server's disk (``DELETE /api/delete``)."""
        with self._translated(name):
            await self._home_clients().api.delete(name)

    @_on_home
    async def answer(
        self,
        *,
        model: str,
        messages: Sequence[dict[str, Any]],
        format: dict[str, Any] | None = None,
        options: dict[str, Any] | None = None,
    ) -> ollama.ChatResponse:
        """One whole ``/api/chat`` answer, not streamed (a short side question)."""
        with self._translated(model):
            return await self._home_clients().api.chat(
                model=model, messages=list(messages), format=format, options=options
            )

    @_relayed
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
            answer = await self._home_clients().api.chat(  # type: ignore[call-overload]
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
