"""What every ``zero-llm`` command shares: running its work, reading input, printing results.

In: a command's coroutine over a ``ModelManager``, the command line's text and standard
input. Out: one event loop per command whose manager is closed at its end, a user
mistake or unreachable server as one clear line on stderr with exit code 1 (never a
traceback), tables that stay readable at 80 columns, and the status line after an answer.
Only ``typer`` is imported here at module level: the heavy libraries (asyncio included)
load inside the commands, so ``zero-llm --help`` answers at once.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, is_dataclass
from typing import TYPE_CHECKING, Annotated, Any, Protocol, TypeVar

import typer

if TYPE_CHECKING:
    from rich.table import Table

    from zero_llm.answer import Answer
    from zero_llm.errors import ZeroLLMError
    from zero_llm.manager import ModelManager

__all__ = [
    "TERMINAL",
    "HostOption",
    "JsonOption",
    "Output",
    "compact_count",
    "echo_json",
    "fail",
    "json_text",
    "manager_for",
    "print_table",
    "run_with_manager",
    "say",
    "summary_line",
    "table",
]

T = TypeVar("T")

HostOption = Annotated[
    str | None, typer.Option("--host", help="Ollama host (default: OLLAMA_HOST or settings).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON, for scripts.")]


VERBOSE = False
"""``-v``/``--verbose`` was given: a failure shows its traceback before its one line."""


def color_enabled() -> bool:
    """Whether styles may be used: not with ``NO_COLOR`` (no-color.org) or ``--no-color``."""
    return not os.environ.get("NO_COLOR")


class _StdoutLine:
    """Whether this process's stdout has an unfinished line (streamed text without its end)."""

    open = False


def note_stdout(text: str) -> None:
    """Remember whether ``text``, just written to stdout, left its line unfinished."""
    if text:
        _StdoutLine.open = not text.endswith("\n")


def start_line_on_stderr() -> None:
    """Wipe the status line, end stdout's unfinished line: what stderr gets next starts a line."""
    from zero_llm.cli.progress import STATUS

    STATUS.status(None)
    if _StdoutLine.open and _is_terminal(sys.stdout):
        sys.stdout.flush()
        sys.stderr.write("\n")
        _StdoutLine.open = False


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class LineStartStream:
    """A stderr for log handlers whose every record starts on a line of its own."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        """Write ``text``, after ending stdout's unfinished line if there is one."""
        start_line_on_stderr()
        return int(self.stream.write(text))

    def flush(self) -> None:
        """Flush the stream below."""
        self.stream.flush()


def say(text: str, *, err: bool = False, style: str | None = None) -> None:
    """Print one line (to stderr with ``err``), dim or coloured by ``style``.

    On stderr the line always starts a line of its own: a line that follows streamed
    answer text still unfinished on stdout is put after a newline, never glued to it.
    """
    if err:
        start_line_on_stderr()
    else:
        note_stdout("\n")
    if style is None or not color_enabled():
        typer.echo(text, err=err)
    elif style == "dim":
        typer.secho(text, err=err, dim=True)
    else:
        typer.secho(text, err=err, fg=style)


class Output(Protocol):
    """Where a command's answer goes: the terminal, or a resident process's client."""

    def out(self, text: str) -> None:
        """Text for stdout, as it comes (no newline added)."""

    def err(self, line: str, style: str | None = None) -> None:
        """One line for stderr, dim or coloured by ``style`` on a terminal."""

    def status(self, text: str | None) -> None:
        """A status line drawn in place on a terminal's stderr; None wipes it."""

    def think(self, text: str) -> None:
        """The model's thinking for stderr, as it comes: dim on a terminal (``--think``)."""


def thinking_text(text: str, stream: Any) -> str:
    """``text`` dimmed (ANSI) when ``stream`` is a terminal and colours are on; else as is."""
    if _is_terminal(stream) and color_enabled():
        return f"\x1b[2m{text}\x1b[0m"
    return text


class TerminalOutput:
    """The ``Output`` of this process's own stdout and stderr."""

    def out(self, text: str) -> None:
        """Text for stdout, as it comes (no newline added)."""
        typer.echo(text, nl=False)
        note_stdout(text)
        sys.stdout.flush()

    def err(self, line: str, style: str | None = None) -> None:
        """One line for stderr, dim or coloured by ``style`` on a terminal."""
        say(line, err=True, style=style)

    def status(self, text: str | None) -> None:
        """A status line drawn in place on a terminal's stderr; None wipes it."""
        from zero_llm.cli.progress import STATUS

        STATUS.status(text)

    def think(self, text: str) -> None:
        """The model's thinking for stderr, as it comes: dim on a terminal (``--think``)."""
        from zero_llm.cli.progress import STATUS

        STATUS.status(None)
        sys.stdout.flush()
        sys.stderr.write(thinking_text(text, sys.stderr))
        sys.stderr.flush()


TERMINAL = TerminalOutput()


def fail(message: str) -> typer.Exit:
    """Print ``error: message`` on stderr and return the exit to raise (code 1).

    Called while an exception is being handled and with ``-v``, its traceback comes first.
    """
    if VERBOSE and sys.exc_info()[1] is not None:
        import traceback

        traceback.print_exc(file=sys.stderr)
    say(f"error: {message}", err=True, style="red")
    return typer.Exit(1)


def fail_error(exc: ZeroLLMError) -> typer.Exit:
    """``fail`` for one of zero_llm's errors, naming its kind."""
    return fail(f"{type(exc).__name__}: {exc}")


def manager_for(host: str | None) -> ModelManager:
    """Build the manager from the usual settings sources, or exit clearly.

    A ``--host`` given on the command line wins: that one host, not the settings' ``hosts``.
    """
    from zero_llm.errors import ZeroLLMError
    from zero_llm.manager import ModelManager

    try:
        return ModelManager(ollama_host=host, hosts=()) if host else ModelManager()
    except ZeroLLMError as exc:
        raise fail(str(exc)) from None


def run_with_manager(
    body: Callable[[ModelManager], Awaitable[T]],
    host: str | None = None,
    manager: ModelManager | None = None,
) -> T:
    """Run ``body`` in one event loop and close the manager at its end, whatever happens."""
    import asyncio

    from zero_llm.errors import ZeroLLMError

    chosen = manager if manager is not None else manager_for(host)

    async def main() -> T:
        try:
            return await body(chosen)
        finally:
            await chosen.aclose()

    try:
        return asyncio.run(main())
    except ZeroLLMError as exc:
        raise fail_error(exc) from None


def summary_line(answer: Answer) -> str:
    """One line on how an answer was made: model, route, latency, first token, tokens."""
    trace = answer.trace
    parts = [f"model={trace.model}"]
    if trace.route is not None:
        parts.append(f"route: {trace.route.reason}")
    if trace.fallbacks:
        parts.append("fallbacks: " + ", ".join(f.model for f in trace.fallbacks))
    parts.append(f"latency={trace.latency_s or 0:.2f}s")
    if trace.first_token_s is not None:
        parts.append(f"first token={trace.first_token_s:.2f}s")
    tokens_in = "?" if trace.prompt_tokens is None else trace.prompt_tokens
    tokens_out = "?" if trace.output_tokens is None else trace.output_tokens
    parts.append(f"tokens in/out={tokens_in}/{tokens_out}")
    return " | ".join(parts)


def report_answer(answer: Answer, output: Output = TERMINAL) -> None:
    """The status lines after an answer: the fallback (if any), then the summary."""
    note = answer.trace.fallback_note
    if note:
        output.err(note, "yellow")
    output.err(summary_line(answer), "dim")


def compact_count(value: int | None) -> str:
    """A count in at most six characters: 950, 12.3k, 4.5M."""
    if value is None:
        return "?"
    if value < 10_000:
        return str(value)
    if value < 1_000_000:
        return f"{value / 1e3:.1f}k"
    return f"{value / 1e6:.1f}M"


def table(*headers: str, flexible: Sequence[str] = (), title: str | None = None) -> Table:
    """A borderless table: headers never cut, only the ``flexible`` columns wrap.

    Columns are one space apart (no rules), so ten short columns and a model name fit
    in 80 columns.
    """
    from rich.table import Column, Table

    columns = [
        Column(h, overflow="fold", min_width=max(len(h), 12))
        if h in flexible
        else Column(h, no_wrap=True, min_width=len(h))
        for h in headers
    ]
    return Table(
        *columns,
        box=None,
        padding=(0, 1, 0, 0),
        header_style="bold underline",
        title=title,
        title_justify="left",
    )


def print_table(rows: Table) -> None:
    """Print a table to stdout at the terminal's width (``COLUMNS``; 80 when not a tty).

    Cells are shown as they are: stored text (a session's title, a model's name) is never
    read as rich markup or emoji codes.
    """
    from rich.console import Console

    Console(highlight=False, markup=False, emoji=False).print(rows)


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    return str(value)


def json_text(value: Any) -> str:
    """``value`` (dataclasses, at any depth, included) as one JSON document."""
    return json.dumps(value, ensure_ascii=False, default=_plain)


def echo_json(value: Any) -> None:
    """Print ``value`` (dataclasses, at any depth, included) as one JSON document."""
    typer.echo(json_text(value))
