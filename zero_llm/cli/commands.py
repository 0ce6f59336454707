"""The ``zero-llm`` command's Typer app: every command and its options.

Every command builds its ``ModelManager`` from the usual settings sources and closes it
at its end. A user mistake or an unreachable server ends in one clear line on stderr and
exit code 1, never a traceback. Each command group lives in its own module, named in
``COMMANDS``; ``app_for`` builds an app of the one command a command line names (so
``zero-llm route ...`` imports and builds ``route`` alone), and the whole app otherwise
(``--help``, no command, a command nobody knows). ``app`` is the whole app.
"""

from __future__ import annotations

import logging
import os
import sys
from importlib import import_module
from typing import TYPE_CHECKING, Annotated, Any

import typer

from zero_llm.cli import common
from zero_llm.cli.command_line import command_named

__all__ = ["COMMANDS", "app", "app_for", "build_app"]

COMMANDS: dict[str, tuple[str, str]] = {
    "ask": ("ask", "ask"),
    "chat": ("chat", "chat"),
    "route": ("ask", "route"),
    "models": ("models", "models"),
    "ps": ("models", "ps"),
    "hosts": ("hosts", "hosts"),
    "load": ("models", "load"),
    "pull": ("models", "pull"),
    "unload": ("models", "unload"),
    "rm": ("models", "rm"),
    "usage": ("history", "usage"),
    "logs": ("logs", "logs"),
    "config": ("config", "config"),
    "doctor": ("doctor", "doctor"),
    "demo": ("ask", "demo"),
    "emulate": ("emulate", "emulate"),
    "sessions": ("history", "sessions_app"),
    "history": ("history", "history_app"),
    "resident": ("resident", "resident_app"),
}
"""Each command (or group, a ``Typer`` of its own) by name: its module in ``zero_llm.cli``
and the function or app there, in the order ``--help`` lists them."""


def _version(value: bool) -> None:
    if value:
        from zero_llm import __version__

        typer.echo(f"zero-llm {__version__}")
        raise typer.Exit()


def _options(
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose", "-v", help="Log retries, fallbacks and every call; show tracebacks."
        ),
    ] = False,
    no_color: Annotated[
        bool, typer.Option("--no-color", help="No colours (as NO_COLOR=1 does).")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """ZERO's model manager for local LLMs on Ollama.

    -v, --no-color and --version may also come after the command.
    """
    if no_color:
        os.environ["NO_COLOR"] = "1"
    common.VERBOSE = verbose
    handler = logging.StreamHandler(common.LineStartStream(sys.stderr))
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO if verbose else logging.ERROR)  # a status may lower loggers
    logging.basicConfig(level=logging.INFO if verbose else logging.ERROR, handlers=[handler])
    if not verbose:
        logging.getLogger("httpx").setLevel(logging.WARNING)


def build_app(names: tuple[str, ...] | None = None) -> typer.Typer:
    """The Typer app of the ``names`` commands (all of ``COMMANDS`` when None).

    Only the modules of those commands are imported.
    """
    built = typer.Typer(
        name="zero-llm",
        help="ZERO's model manager for local LLMs on Ollama.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    built.callback()(_options)
    for name in names if names is not None else tuple(COMMANDS):
        module, attribute = COMMANDS[name]
        command = getattr(import_module(f"zero_llm.cli.{module}"), attribute)
        if isinstance(command, typer.Typer):
            built.add_typer(command, name=name)
        else:
            built.command(name)(command)
    return built


def app_for(args: list[str]) -> typer.Typer:
    """The app to run ``args`` (global flags first): of the one command they name, if known.

    Anything else (no command, ``--help`` or another option before it, an unknown name)
    gets the whole app, so its help, usage and "no such command" stay the app's own.
    """
    named = command_named(args)
    if named in COMMANDS:
        return build_app((named,))
    return build_app()


def __getattr__(name: str) -> Any:
    """``app``, the whole app, built on first use."""
    if name == "app":
        built = build_app()
        globals()["app"] = built
        return built
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if TYPE_CHECKING:
    app: typer.Typer
