"""Never quiet: what the user is waiting for, on stderr, only when stderr is a terminal.

In: a call's trace as it fills in, zero_llm's own log records (a pull starting), pull
steps. Out: one status line redrawn in place ("loading llama3.1:8b (evicting ...) 3s",
"deepseek-r1:32b thinking... 12s") that is wiped before the answer's first text, and
pull progress (a byte bar per layer, each status-only step as a plain line). Piped or
redirected stderr gets none of it, so scripts see clean output.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from typing import IO, TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from zero_llm.answer import CallTrace
    from zero_llm.memory_plan import SchedulerState
    from zero_llm.ollama.client import PullProgress

__all__ = [
    "SPINNER",
    "STATUS",
    "PullStatus",
    "StatusLine",
    "StatusSink",
    "pull_progress",
    "pull_status_text",
    "showing_status",
    "waiting_text",
]

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
INTERVAL_S = 0.2
"""How often the status line is redrawn."""
WATCHED_LOGGERS = ("zero_llm.calls",)
"""Loggers whose INFO records say what a wait is for (a pull starting)."""
WATCHED_PREFIXES = ("pulling",)
"""The start of the records shown as a wait's reason."""


class StatusSink(Protocol):
    """Where a status line goes: this terminal, or a resident process's client."""

    def status(self, text: str | None) -> None:
        """Show ``text`` in place of the previous status; None wipes it."""


class StatusLine:
    """A status line redrawn in place on a terminal; nothing at all on anything else."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        """Draw on ``stream`` (default: this process's stderr)."""
        self._stream = stream
        self._shown = False
        self._turn = 0

    @property
    def stream(self) -> IO[str]:
        """The stream drawn on."""
        return self._stream or sys.stderr

    def enabled(self) -> bool:
        """Whether the stream is a terminal (only then is anything drawn)."""
        try:
            return self.stream.isatty()
        except (AttributeError, ValueError):
            return False

    def status(self, text: str | None) -> None:
        """Show ``text`` (after a turning spinner) in place of the last; None wipes it."""
        if not self.enabled():
            return
        if text is None:
            if self._shown:
                self.stream.write("\r\x1b[K")
                self.stream.flush()
                self._shown = False
            return
        self._turn = (self._turn + 1) % len(SPINNER)
        self.stream.write(f"\r\x1b[K{SPINNER[self._turn]} {text}")
        self.stream.flush()
        self._shown = True


def waiting_text(
    trace: CallTrace | None,
    elapsed: float,
    event: str | None = None,
    states: Mapping[str, SchedulerState] | None = None,
) -> str:
    """What a question is waiting for, in a few words, with the seconds waited.

    ``states``: the residency schedulers' snapshots per host, to tell a queue apart.
    """
    seconds = f"{elapsed:.0f}s"
    if trace is None:
        return f"{event or 'waiting for the answer'}... {seconds}"
    model = trace.model or trace.requested_model or "the model"
    if trace.first_token_s is not None:  # chunks come, no text yet: the model thinks
        return f"{model} thinking... {seconds}"
    if trace.cold_load:
        return f"{trace.cold_load.replace('cold load of', 'loading', 1)}... {seconds}"
    if event:
        return f"{event}... {seconds}"
    for state in (states or {}).values():
        busy = sorted(m for m, n in state.in_flight.items() if n and m != model)
        if state.queued.get(model) and busy:
            return f"{model} queued behind {', '.join(busy)}... {seconds}"
        if model in state.loading:
            return f"loading {model}... {seconds}"
    return f"waiting for {model}... {seconds}"


class _LastEvent(logging.Handler):
    """Keeps the message of the last INFO record of the watched loggers."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.message: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        """Remember the record's message."""
        message = record.getMessage()
        if record.levelno == logging.INFO and message.startswith(WATCHED_PREFIXES):
            self.message = message


class _Watch:
    """The watched loggers' levels, lowered to INFO while any status is shown."""

    count = 0
    levels: dict[str, int] = {}  # noqa: RUF012 (one process-wide table)

    @classmethod
    def start(cls, capture: logging.Handler) -> None:
        """Let INFO records of the watched loggers reach ``capture``."""
        if cls.count == 0:
            for name in WATCHED_LOGGERS:
                logger = logging.getLogger(name)
                cls.levels[name] = logger.level
                if logger.getEffectiveLevel() > logging.INFO:
                    logger.setLevel(logging.INFO)
        cls.count += 1
        for name in WATCHED_LOGGERS:
            logging.getLogger(name).addHandler(capture)

    @classmethod
    def stop(cls, capture: logging.Handler) -> None:
        """Detach ``capture``; the last one out restores the levels."""
        for name in WATCHED_LOGGERS:
            logging.getLogger(name).removeHandler(capture)
        cls.count -= 1
        if cls.count == 0:
            for name, level in cls.levels.items():
                logging.getLogger(name).setLevel(level)


@asynccontextmanager
async def showing_status(
    sink: StatusSink, describe: Callable[[float, str | None], str]
) -> AsyncIterator[None]:
    """Redraw ``describe(elapsed, last_event)`` on ``sink`` while the block runs, then wipe it.

    Records below the stderr handlers' level stay unprinted: the CLI's and the resident
    process's handlers print only warnings and worse unless ``-v``.
    """
    capture = _LastEvent()
    _Watch.start(capture)
    started = time.perf_counter()

    async def draw() -> None:
        while True:
            sink.status(describe(time.perf_counter() - started, capture.message))
            await asyncio.sleep(INTERVAL_S)

    ticker = asyncio.create_task(draw())
    try:
        yield
    finally:
        ticker.cancel()
        await asyncio.wait([ticker])  # its end, without raising its CancelledError here
        sink.status(None)
        _Watch.stop(capture)


@contextmanager
def pull_progress(stream: IO[str] | None = None) -> Iterator[Callable[[PullProgress], None]]:
    """A pull-progress callback: a byte bar per layer, status-only steps as plain lines.

    Off a terminal the callback does nothing.
    """
    line = StatusLine(stream)
    if not line.enabled():
        yield lambda step: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    console = Console(file=line.stream, force_terminal=True)
    with Progress(
        TextColumn("{task.description}", markup=False),  # the server's words, as they are
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=console,
        transient=False,
    ) as bars:
        layers: dict[str, Any] = {}
        said: set[str] = set()

        def report(step: PullProgress) -> None:
            if step.digest and step.total:
                if step.digest not in layers:
                    short = step.digest.removeprefix("sha256:")[:12]
                    layers[step.digest] = bars.add_task(f"pulling {short}", total=step.total)
                bars.update(layers[step.digest], completed=step.completed or 0)
            elif step.status not in said:  # "pulling manifest", "verifying ...", "success"
                said.add(step.status)
                bars.console.print(step.status, highlight=False)

        yield report


BAR_WIDTH = 24
"""Characters of the byte bar drawn in a status line."""


def _bytes_done(done: int, total: int) -> str:
    """``2.4/4.9 GB``: the bytes done out of the total, in the total's decimal unit."""
    for unit, factor in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if total >= factor:
            return f"{done / factor:.1f}/{total / factor:.1f} {unit}"
    return f"{done}/{total} bytes"


def pull_status_text(name: str, step: PullProgress) -> str:
    """A pull step as one status line: a layer's bar with bytes done of its total, else the step.

    ``pulling llama3.1:8b 667b0c1932bc ████████████░░░░░░░░░░░░ 2.4/4.9 GB 49%``.
    """
    if step.digest and step.total:
        done = min(max(step.completed or 0, 0), step.total)
        filled = round(BAR_WIDTH * done / step.total)
        bar = "█" * filled + "░" * (BAR_WIDTH - filled)
        short = step.digest.removeprefix("sha256:")[:12]
        share = f"{100 * done // step.total}%"
        return f"pulling {name} {short} {bar} {_bytes_done(done, step.total)} {share}"
    return f"pulling {name}: {step.status}"


class PullStatus:
    """A pull-progress callback that draws each step on a status sink, at most every 0.1 s.

    A step that finishes a layer is always drawn, so the last bar shown is a full one.
    """

    def __init__(self, name: str, sink: StatusSink, interval: float = 0.1) -> None:
        """Draw ``name``'s pull steps on ``sink``."""
        self.name = name
        self.sink = sink
        self.interval = interval
        self._last = ""
        self._drawn_at = 0.0

    def __call__(self, step: PullProgress) -> None:
        """Draw ``step`` unless it repeats the last line or comes too soon after it."""
        text = pull_status_text(self.name, step)
        now = time.monotonic()
        finished = bool(step.total) and (step.completed or 0) >= (step.total or 0)
        if text == self._last or (now - self._drawn_at < self.interval and not finished):
            return
        self._last, self._drawn_at = text, now
        self.sink.status(text)


STATUS = StatusLine()
"""The status line of this process's stderr."""
