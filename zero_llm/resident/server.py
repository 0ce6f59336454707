"""The resident process: answers ``zero-llm ask`` questions over a Unix socket.

    python -m zero_llm.resident.server SOCKET   (the first ``ask`` starts it; see ``client``)

In: one JSON line per connection: ``{"ask": request}``, ``{"status": true}`` or
``{"stop": true}``. Out: JSON lines of events: ``{"out": text}`` for stdout, ``{"err":
line, "style": ...}`` for stderr, and a last ``{"exit": code}``; an ``ask`` is first
answered ``{"accepted": true}``, before any work on it. The answer is made by the
same code as the in-process command (``zero_llm.cli.ask.answer_request``) with one
``ModelManager`` per ``--host``, kept between questions, so each ask finds its client,
its model facts and its encodings ready. The process leaves after ``resident_idle_s``
without a question, or on SIGTERM, closing its managers (which writes their usage).
A client that hangs up (Ctrl-C) cancels its question.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from zero_llm.cli.ask import answer_request
from zero_llm.database import sqlite_file
from zero_llm.errors import ZeroLLMError
from zero_llm.manager import ModelManager
from zero_llm.resident.client import PROTOCOL
from zero_llm.resident.request import AskRequest
from zero_llm.settings import ZeroLLMSettings, load_settings
from zero_llm.vocab import held_encodings

__all__ = ["ResidentServer", "main"]

log = logging.getLogger(__name__)

STOP_GRACE_S = 10.0
"""How long a leaving process waits for the questions it is answering."""
MAX_MANAGERS = 8
"""Most managers (one per ``--host``) a resident process keeps."""
REQUEST_LIMIT = 64 * 1024 * 1024
"""The longest request line (question, piped text and all) the process reads, in bytes."""


MAX_CONNECTIONS = 64
"""Most connections served at once; more are closed at once (a flood cannot exhaust files)."""
LOG_EVERY_S = 60.0
"""A repeated failure (refused connections, accept errors) is logged once per this long."""


class OncePerInterval(logging.Filter):
    """Lets a repeated record through once per ``interval`` seconds, with a count of the rest."""

    def __init__(self, interval: float = LOG_EVERY_S, match: str = "") -> None:
        """Filter records whose message contains ``match`` (every record when empty)."""
        super().__init__()
        self.interval = interval
        self.match = match
        self.last = float("-inf")
        self.suppressed = 0

    def filter(self, record: logging.LogRecord) -> bool:
        """True for the first matching record of each interval."""
        if self.match and self.match not in record.getMessage():
            return True
        now = time.monotonic()
        if now - self.last < self.interval:
            self.suppressed += 1
            return False
        if self.suppressed:
            record.msg = f"{record.msg} ({self.suppressed} more like it not logged)"
        self.last, self.suppressed = now, 0
        return True


_REFUSED = logging.getLogger(__name__ + ".flood")
_REFUSED.addFilter(OncePerInterval())


def _event(**fields: Any) -> bytes:
    return json.dumps(fields).encode() + b"\n"


def resident_set_bytes() -> int | None:
    """The resident memory (RSS) of this process in bytes; None where ``/proc`` does not say."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE")


class SocketOutput:
    """An ``Output`` whose lines go to the client as events."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        """Write events to ``writer``."""
        self.writer = writer

    def out(self, text: str) -> None:
        """Text for the client's stdout (as it comes, no newline added)."""
        self._send(_event(out=text))

    def err(self, line: str, style: str | None = None) -> None:
        """One line for the client's stderr, styled if its stderr is a terminal."""
        self._send(_event(err=line, style=style))

    def status(self, text: str | None) -> None:
        """A status line for the client to draw in place (if its stderr is a terminal)."""
        self._send(_event(status=text))

    def think(self, text: str) -> None:
        """The model's thinking for the client's stderr (dim if it is a terminal)."""
        self._send(_event(think=text))

    def _send(self, event: bytes) -> None:
        if not self.writer.transport.is_closing():  # a client that left hears nothing
            self.writer.write(event)


class ResidentServer:
    """One resident process: its managers, its socket and its idle clock."""

    def __init__(self, path: Path, settings: ZeroLLMSettings | ZeroLLMError) -> None:
        """Serve on the Unix socket ``path`` with ``settings`` (or the error reading them)."""
        self.path = path
        self.settings = settings
        self.idle_s = settings.resident_idle_s if isinstance(settings, ZeroLLMSettings) else 1.0
        self.managers: dict[str | None, ModelManager] = {}
        self.using: dict[str | None, int] = {}
        self.active = 0
        self.answering = 0
        self.asks = 0
        self.started = time.time()
        self.last_activity = time.monotonic()
        self.stopping = asyncio.Event()
        self.all_answered = asyncio.Event()
        self.all_answered.set()
        self.log_path = path.with_suffix(".log")
        self.store_seen: tuple[int, int] | None = None

    def manager(self, host: str | None) -> ModelManager:
        """The manager for ``--host`` (None: the settings' hosts), built on first use."""
        if isinstance(self.settings, ZeroLLMError):
            raise self.settings
        if host not in self.managers:
            self.managers[host] = (
                ModelManager(self.settings, ollama_host=host, hosts=())
                if host
                else ModelManager(self.settings)
            )
        self.managers[host] = self.managers.pop(host)  # the most recently used goes last
        return self.managers[host]

    async def forget_extra_managers(self) -> None:
        """Close the least recently used ``--host`` managers past ``MAX_MANAGERS``.

        Each distinct ``--host`` gets a manager of its own; without a bound, a client
        naming many hosts would grow the process without end. The settings' own manager
        stays, and so does any manager answering a question now.
        """
        extra = len(self.managers) - MAX_MANAGERS
        idle = [h for h in self.managers if h is not None and not self.using.get(h)]
        for host in idle[: max(extra, 0)]:
            await self.managers.pop(host).aclose()

    def store_identity(self) -> tuple[int, int] | None:
        """The SQLite history file's (device, inode), or None (absent, or not SQLite)."""
        if not isinstance(self.settings, ZeroLLMSettings):
            return None
        path = sqlite_file(self.settings.history_database_url)
        try:
            found = os.stat(path) if path is not None else None
        except OSError:
            return None
        return (found.st_dev, found.st_ino) if found is not None else None

    async def renew_if_store_replaced(self) -> None:
        """Start the managers afresh when the history file was deleted or replaced.

        Otherwise they would go on writing to a file nobody else can see any more (after
        ``rm -rf ~/.zero_llm``, say).
        """
        if self.store_seen is None or self.store_identity() == self.store_seen:
            return
        log.warning("resident: the history database was replaced; starting afresh")
        managers, self.managers = list(self.managers.values()), {}
        for manager in managers:
            await manager.aclose()
        self.store_seen = None

    async def answer(self, request: AskRequest, output: SocketOutput) -> int:
        """Answer one request; the exit code the command returns."""
        await self.renew_if_store_replaced()
        try:
            manager = self.manager(request.host)
        except ZeroLLMError as exc:
            output.err(f"error: {exc}", "red")
            return 1
        self.using[request.host] = self.using.get(request.host, 0) + 1
        try:
            await answer_request(manager, request, output)
            self.store_seen = self.store_identity()
        except ZeroLLMError as exc:
            output.err(f"error: {type(exc).__name__}: {exc}", "red")
            return 1
        except Exception as exc:  # a bug of ours: said in one line here, whole in the log
            log.exception("resident: the ask failed")
            output.err(f"error: unexpected {type(exc).__name__}: {exc} (see {self.log_path})")
            return 1
        finally:
            self.using[request.host] -= 1
            await self.forget_extra_managers()
        return 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one connection: one message, its events, then the exit code."""
        if self.stopping.is_set():  # accepted as the process was leaving: the client retries
            writer.close()
            return
        if self.active >= MAX_CONNECTIONS:  # a flood: close at once, say so once a minute
            _REFUSED.warning(
                "resident: %d connections open; refusing more (at most %d)",
                self.active,
                MAX_CONNECTIONS,
            )
            writer.close()
            return
        self.active += 1
        try:
            try:
                message = json.loads(await reader.readline() or b"{}")
                if not isinstance(message, dict):
                    raise ValueError(f"a request is a JSON object, got {type(message).__name__}")
                if not {"ask", "status", "stop"} & set(message):
                    raise ValueError("it names no command (ask, status or stop)")
                request = AskRequest.from_wire(message["ask"]) if "ask" in message else None
            except (ValueError, TypeError) as exc:  # over REQUEST_LIMIT, not JSON, bad fields
                log.warning("resident: refused a request: %s", exc)
                writer.write(_event(err=f"error: the request could not be read: {exc}", exit=1))
            else:
                await self._serve(message, request, reader, writer)
            await writer.drain()
        except ConnectionError as exc:
            log.warning("resident: dropped a connection: %s", exc)
        finally:
            self.active -= 1
            writer.close()

    async def _serve(
        self,
        message: dict[str, Any],
        request: AskRequest | None,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        # status and stop answer any client (they are the same in every protocol): a newer
        # or older zero-llm can list this process and stop it; only an ask must match.
        if message.get("status"):
            writer.write(_event(status=self.status(), exit=0))
        elif message.get("stop"):
            writer.write(_event(exit=0))
            self.stopping.set()
        elif message.get("protocol") != PROTOCOL:
            writer.write(_event(err="error: client and resident process differ", exit=1))
        elif request is not None:
            # Said before any work: a client that did not read it may ask again, knowing
            # the question was never begun (the kernel delivers what was written even
            # if this process dies right after).
            writer.write(_event(accepted=True))
            await writer.drain()
            self.asks += 1
            code = await self._answer_until_hangup(reader, writer, request)
            if code is not None and not writer.transport.is_closing():
                writer.write(_event(exit=code))

    async def _answer_until_hangup(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: AskRequest
    ) -> int | None:
        """Answer, unless the client hangs up first (then the question is cancelled)."""
        output = SocketOutput(writer)
        self.answering += 1  # only questions count as activity: status and stop do not
        self.all_answered.clear()
        try:
            answering = asyncio.create_task(self.answer(request, output))
            hangup = asyncio.create_task(reader.read(1))
            done, _ = await asyncio.wait({answering, hangup}, return_when=asyncio.FIRST_COMPLETED)
            hangup.cancel()
            await asyncio.gather(hangup, return_exceptions=True)  # EOF, or a reset: seen
            if answering not in done:
                answering.cancel()
                await asyncio.gather(answering, return_exceptions=True)
                return None
            return answering.result()
        finally:
            self.answering -= 1
            self.last_activity = time.monotonic()
            if not self.answering:
                self.all_answered.set()

    def status(self) -> dict[str, Any]:
        """What ``zero-llm resident status`` shows of this process."""
        return {
            "pid": os.getpid(),
            "socket": str(self.path),
            "cwd": os.getcwd(),
            "started": self.started,
            "asks": self.asks,
            "answering": self.answering,
            "idle_s": 0.0 if self.answering else round(time.monotonic() - self.last_activity, 1),
            "idle_limit_s": self.idle_s,
            "hosts": [h or "settings" for h in self.managers],
            "ollama": self._hosts(),
            "protocol": PROTOCOL,
            "rss_bytes": resident_set_bytes(),
            "vocabularies": held_encodings(),
        }

    def _hosts(self) -> list[str]:
        """The Ollama hosts this process answers from (its settings', and any --host)."""
        found = [h for h in self.managers if h]
        if isinstance(self.settings, ZeroLLMSettings):
            found = [h.url for h in self.settings.host_list()] + found
        return list(dict.fromkeys(found))

    async def serve(self) -> None:
        """Listen until stopped or idle for ``idle_s``; then close everything."""
        server = await asyncio.start_unix_server(
            self.handle, path=str(self.path), limit=REQUEST_LIMIT
        )
        os.chmod(self.path, 0o600)
        inode = os.stat(self.path).st_ino
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        try:
            while not self.stopping.is_set():
                with_timeout = asyncio.wait_for(self.stopping.wait(), min(self.idle_s, 1.0))
                with contextlib.suppress(TimeoutError):
                    await with_timeout
                idle = time.monotonic() - self.last_activity
                if not self.answering and not self.active and idle >= self.idle_s:
                    self.stopping.set()
        finally:
            server.close()
            with contextlib.suppress(TimeoutError):  # let questions in flight finish
                await asyncio.wait_for(self.all_answered.wait(), STOP_GRACE_S)
            try:
                if os.stat(self.path).st_ino == inode:  # not a successor's socket
                    self.path.unlink()
            except FileNotFoundError:
                pass
            await server.wait_closed()
            for manager in self.managers.values():
                await manager.aclose()


def main(argv: list[str] | None = None) -> None:
    """Run the resident process on the socket named by the first argument."""
    args = sys.argv[1:] if argv is None else argv
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    for handler in logging.getLogger().handlers:  # a status line may lower a logger's level
        handler.setLevel(logging.WARNING)
    # asyncio logs every failed accept() (out of file descriptors): once a minute is enough
    logging.getLogger("asyncio").addFilter(OncePerInterval(match="out of system resource"))
    settings: ZeroLLMSettings | ZeroLLMError
    try:
        settings = load_settings()
    except ZeroLLMError as exc:  # every ask says so; a fixed setting starts a new process
        settings = exc
    asyncio.run(ResidentServer(Path(args[0]), settings).serve())


if __name__ == "__main__":
    main()
