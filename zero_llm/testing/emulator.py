"""``OllamaEmulator``: an Ollama-compatible server on a real socket, for tests and demos.

It runs its own event loop on a background thread, so sync code, async code and other
processes all reach it over loopback exactly as they would reach Ollama::

    with OllamaEmulator() as emu:
        client = ollama.Client(host=emu.base_url)
        emu.faults.busy_next(2)          # the next two model requests get 503
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine, Iterable, Sequence
from types import TracebackType
from typing import Any, TypeVar

from aiohttp import web

from zero_llm.testing.catalog import EmulatedModel
from zero_llm.testing.faults import Faults
from zero_llm.testing.scheduler import KvCacheType, SchedulerSettings, SchedulerStats
from zero_llm.testing.server import EmulatorState, RecordedRequest, build_app, normalize_name

__all__ = ["OllamaEmulator"]

T = TypeVar("T")


class OllamaEmulator:
    """An Ollama-compatible HTTP server for tests, demos and notebooks.

    Args:
        host: interface to listen on.
        port: port to listen on; 0 picks a free one (see ``base_url``).
        models: extra models to hold besides the defaults (the three ZERO models and
            ``nomic-embed-text``).
        pullable: names of models known to the registry but not yet present.
        gpu_memory: bytes of GPU memory (None: unlimited); models that do not fit wait for
            idle ones to be evicted, a model too big even alone runs partly on the CPU.
        num_parallel: requests served at once per loaded model (OLLAMA_NUM_PARALLEL).
        max_loaded_models: models loaded at once (OLLAMA_MAX_LOADED_MODELS).
        max_queue: pending requests before 503 "server busy" (OLLAMA_MAX_QUEUE).
        kv_cache_type: f16, q8_0 or q4_0 (OLLAMA_KV_CACHE_TYPE), for the KV cache's size.
        time_scale: real seconds per simulated second of loading and generating (0: instant);
            reported durations are what really elapsed.
        default_num_ctx: the ``num_ctx`` used when a request does not set one.
        chunk_tokens: tokens per streamed chunk.
        chunk_delay: real seconds slept before each streamed chunk (slow generation).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        models: Sequence[EmulatedModel] = (),
        pullable: Iterable[str] = (),
        gpu_memory: int | None = None,
        num_parallel: int = 1,
        max_loaded_models: int = 3,
        max_queue: int = 512,
        kv_cache_type: KvCacheType = "f16",
        time_scale: float = 0.0,
        default_num_ctx: int = 4096,
        chunk_tokens: int = 1,
        chunk_delay: float = 0.0,
    ) -> None:
        self.host = host
        self._requested_port = port
        self.state = EmulatorState.with_defaults(
            models,
            tuple(pullable),
            settings=SchedulerSettings(
                gpu_memory=gpu_memory,
                num_parallel=num_parallel,
                max_loaded_models=max_loaded_models,
                max_queue=max_queue,
                kv_cache_type=kv_cache_type,
                time_scale=time_scale,
            ),
            default_num_ctx=default_num_ctx,
            chunk_tokens=chunk_tokens,
            chunk_delay=chunk_delay,
        )
        self.state.faults.set_refuse_hook(self._refuse_for)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._port: int | None = None
        self._reopen: asyncio.TimerHandle | None = None
        self._reopening: asyncio.Future[None] | None = None

    # ------------------------------------------------------------- lifecycle
    def start(self) -> OllamaEmulator:
        """Start serving on a background thread; return self once the socket listens."""
        if self._thread is not None:
            return self
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._open())
            except BaseException as exc:  # reported to start()'s caller
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._close())
            loop.close()

        self._thread = threading.Thread(target=run, name="ollama-emulator", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread = None
            raise failure[0]
        return self

    def stop(self) -> None:
        """Stop serving and join the background thread."""
        if self._thread is None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._thread = None
        self._loop = None

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (the ``zero-llm emulate`` command)."""
        self.start()
        try:
            while self._thread is not None and self._thread.is_alive():
                self._thread.join(timeout=0.5)
        finally:
            self.stop()

    def __enter__(self) -> OllamaEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def _open(self) -> None:
        self._runner = web.AppRunner(
            build_app(self.state),
            access_log=None,
            handle_signals=False,
            handler_cancellation=True,  # a client that goes away cancels its request, as in Ollama
        )
        await self._runner.setup()
        await self._listen(self._requested_port)

    async def _listen(self, port: int) -> None:
        assert self._runner is not None
        self._site = web.TCPSite(self._runner, self.host, port, reuse_address=True)
        await self._site.start()
        server = self._site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self._port = sockets[0].getsockname()[1] if sockets else port

    async def _close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._loop is None:
            raise RuntimeError("the emulator is not running: call start() or use it in a with")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=30)

    # ---------------------------------------------------------------- faults
    def _refuse_for(self, seconds: float) -> None:
        self._call(self._go_down(seconds))

    async def _go_down(self, seconds: float) -> None:
        assert self._runner is not None and self._loop is not None
        if self._site is not None:
            await self._site.stop()
            self._site = None
        server = self._runner.server
        if server is not None:
            for transport in list(server._connections.values()):
                transport.abort()
        if self._reopen is not None:
            self._reopen.cancel()
        port = self._port or 0

        def reopen() -> None:
            self._reopen = None
            self._reopening = asyncio.ensure_future(self._listen(port))

        self._reopen = self._loop.call_later(seconds, reopen)

    # ------------------------------------------------------------ properties
    @property
    def port(self) -> int:
        """The port the emulator listens on."""
        if self._port is None:
            raise RuntimeError("the emulator is not running")
        return self._port

    @property
    def base_url(self) -> str:
        """``http://host:port``, ready for ``OLLAMA_HOST`` or ``ollama.Client(host=...)``."""
        return f"http://{self.host}:{self.port}"

    @property
    def faults(self) -> Faults:
        """The fault injector (arm faults from any thread)."""
        return self.state.faults

    @property
    def requests(self) -> list[RecordedRequest]:
        """The requests received so far, oldest first (the last 2,000)."""
        return list(self.state.requests)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        """The recorded requests to one path, e.g. ``/api/chat``."""
        return [r for r in self.state.requests if r.path == path]

    def clear_requests(self) -> None:
        """Forget the recorded requests."""
        self.state.requests.clear()

    # ------------------------------------------------------- model management
    def add_model(self, model: EmulatedModel) -> None:
        """Hold one more model (``present=False`` makes it pullable only)."""
        self.state.models[model.name] = model

    def set_present(self, name: str, present: bool) -> None:
        """Put a known model on disk, or take it off (it stays pullable)."""
        model = self.state.models[normalize_name(name)]
        model.present = present
        if not present:
            self._in_loop(lambda: self.state.scheduler.forget(model.name))

    def loaded_models(self) -> dict[str, int]:
        """Models in memory now, with their ``num_ctx``."""
        scheduler = self.state.scheduler

        def read() -> dict[str, int]:
            scheduler.expire(time.time())
            return {name: r.num_ctx for name, r in scheduler.loaded.items()}

        return self._in_loop(read)

    @property
    def stats(self) -> SchedulerStats:
        """A copy of the scheduler's counters: loads, evictions, partial offloads, queue waits."""
        return self._in_loop(self.state.scheduler.snapshot)

    def _in_loop(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the emulator's loop (the scheduler's state lives there)."""
        if self._loop is None or threading.current_thread() is self._thread:
            return fn()

        async def call() -> T:
            return fn()

        return self._call(call())

    def set_reply(self, text: str | None, model: str = "*") -> None:
        """Answer every request (or one model's) with ``text``; None restores derived answers."""
        if text is None:
            self.state.reply_override.pop(model, None)
        else:
            self.state.reply_override[model] = text

    @property
    def load_count(self) -> int:
        """How many model loads (and reloads) the emulator has done."""
        return self.stats.loads

    def reset(self) -> None:
        """Forget faults, requests, loaded models, counters and reply overrides."""
        self.state.faults.clear()
        self.state.requests.clear()
        self._in_loop(self.state.scheduler.clear)
        self.state.reply_override.clear()
        self.state.faults.fired.clear()
