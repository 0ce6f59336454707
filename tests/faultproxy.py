"""A fault-injecting TCP proxy on loopback, in front of the emulator (or any HTTP server).

It breaks the wire the way networks and crashed servers do, independent of the emulator's
own fault injection. Modes (``proxy.mode``), applied to each new connection:

- ``pass``: forward bytes both ways unchanged;
- ``blackhole``: accept the connection and never answer;
- ``html``: answer ``200 OK`` with an HTML body (a captive portal, a wrong service);
- ``drip``: forward the server's answer one byte every ``drip_delay`` seconds;
- ``garbage``: answer random bytes that are not HTTP;
- ``truncate``: forward the answer up to and into its second NDJSON line, then close;
- ``kill``: forward the first ``kill_after`` bytes of the answer, then drop both sides (the
  server "crashed"); the next connection is forwarded again (it "restarted").

Runs its own asyncio loop in a daemon thread, so sync and async clients can both use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
from typing import Literal

Mode = Literal["pass", "blackhole", "html", "drip", "garbage", "truncate", "kill"]

HTML = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 46\r\n"
    b"Connection: close\r\n\r\n<html><body>Please log in first</body></html>"
)


class FaultProxy:
    """A loopback TCP proxy to ``upstream_port`` that misbehaves as ``mode`` says."""

    def __init__(self, upstream_port: int, mode: Mode = "pass") -> None:
        self.upstream_port = upstream_port
        self.mode: Mode = mode
        self.drip_delay = 0.05
        self.kill_after = 400
        self.connections = 0
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    @property
    def base_url(self) -> str:
        """The proxy's URL, for ``ollama_host``."""
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        future.result(timeout=10)
        return self

    def __exit__(self, *exc_info: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)  # type: ignore[arg-type]
        self.connections += 1
        mode = self.mode
        try:
            if mode == "blackhole":
                await asyncio.sleep(3600)
            elif mode == "html":
                await _read_request_head(reader)
                writer.write(HTML)
                await writer.drain()
            elif mode == "garbage":
                await _read_request_head(reader)
                writer.write(random.Random(7).randbytes(512))
                await writer.drain()
            else:
                await self._forward(reader, writer, mode)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)  # type: ignore[arg-type]
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _forward(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, mode: Mode
    ) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)

        async def client_to_server() -> None:
            while data := await reader.read(65536):
                up_writer.write(data)
                await up_writer.drain()

        upload = asyncio.create_task(client_to_server())
        sent = 0
        try:
            while data := await up_reader.read(65536):
                if mode == "drip":
                    for byte in data:
                        writer.write(bytes([byte]))
                        await writer.drain()
                        await asyncio.sleep(self.drip_delay)
                    continue
                if mode == "kill" and sent + len(data) >= self.kill_after:
                    writer.write(data[: self.kill_after - sent])
                    await writer.drain()
                    self.mode = "pass"  # the server restarts: the next connection works
                    writer.transport.abort()
                    return
                if mode == "truncate":
                    body_start = data.find(b"\r\n\r\n")
                    cut = _second_line_cut(data, max(body_start, 0))
                    if cut is not None:
                        writer.write(data[:cut])
                        await writer.drain()
                        return
                writer.write(data)
                await writer.drain()
                sent += len(data)
        finally:
            upload.cancel()
            up_writer.close()


def _second_line_cut(data: bytes, body_start: int) -> int | None:
    """Where to cut a response so that its second NDJSON line arrives half-written."""
    first = data.find(b"}\n", body_start)
    if first == -1:
        return None
    second = data.find(b"{", first)
    if second == -1:
        return None
    return second + 5


async def _read_request_head(reader: asyncio.StreamReader) -> None:
    with contextlib.suppress(asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        await reader.readuntil(b"\r\n\r\n")
