"""The ``zero-llm`` command: ask, route, manage models, inspect records, serve the emulator.

``main`` hands ``zero-llm ask ...`` to the resident process first (``zero_llm.resident``:
standard library only, so an ask costs a bare interpreter's start-up plus the answer);
every other command, and any ask it does not take, goes to the Typer app
(``zero_llm.cli.commands``), imported only then.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

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
    from zero_llm.cli.commands import app

    app()


def __getattr__(name: str) -> Any:
    """``app``, imported on first use (it brings Typer and every command)."""
    if name == "app":
        from zero_llm.cli.commands import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if TYPE_CHECKING:
    app: typer.Typer
