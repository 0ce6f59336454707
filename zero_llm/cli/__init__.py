"""The ``zero-llm`` command: ask, route, manage models, inspect records, serve the emulator.

``main`` hands ``zero-llm ask ...`` to the resident process first (``zero_llm.resident``:
standard library only, so an ask costs a bare interpreter's start-up plus the answer);
every other command, and any ask it does not take, goes to the Typer app
(``zero_llm.cli.commands``), imported only then, and built of the one command named (the
others' modules are never imported: a command that does no model I/O starts fast).

The global options may come anywhere before a ``--``: ``zero-llm ask -v "q"`` is
``zero-llm -v ask "q"``. A ``ZeroLLMError`` that escapes a command is one ``error:``
line on stderr (exit code 1); with ``-v`` its traceback comes first.

A command that does no model I/O and ends in a moment (``command_line.BRIEF``, and the app's own
``--help`` or ``--version``) runs without the cyclic garbage collector, whose passes over
the freshly imported libraries cost more than the command's own work, and freezes its
objects at its end (``gc.freeze``), so the interpreter's exit skips its last full
collection. Both are the ``gc`` module's documented switches: the objects still go with
the process, and every exit handler still runs. Other commands keep the collector.
"""

from __future__ import annotations

import gc
import sys
from typing import TYPE_CHECKING, Any

from zero_llm.cli.command_line import hoist_global_flags, is_brief

if TYPE_CHECKING:
    import typer

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the ``zero-llm`` console script."""
    args = sys.argv[1:]
    if args[:1] == ["ask"]:
        from zero_llm.resident.client import run_ask

        code = run_ask(args[1:])
        if code is not None:
            sys.stdout.flush()
            sys.exit(code)
    args = hoist_global_flags(args)
    if not is_brief(args):
        _run_app(args)
        return
    gc.disable()
    try:
        _run_app(args)
    finally:
        gc.freeze()  # the process ends next: its exit need not collect what it imported


def _run_app(args: list[str]) -> None:
    from zero_llm.cli.commands import app_for
    from zero_llm.errors import ZeroLLMError

    try:
        app_for(args)(args=args, prog_name="zero-llm")
    except ZeroLLMError as exc:
        from zero_llm.cli.common import fail_error

        fail_error(exc)
        sys.exit(1)


def __getattr__(name: str) -> Any:
    """``app``, imported on first use (it brings Typer and every command)."""
    if name == "app":
        from zero_llm.cli.commands import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if TYPE_CHECKING:
    app: typer.Typer
