"""The ``zero-llm`` command's Typer app: every command and its options.

Every command builds its ``ModelManager`` from the usual settings sources and closes it
at its end. A user mistake or an unreachable server ends in one clear line on stderr and
exit code 1, never a traceback. Each command group lives in its own module; only
``typer`` is imported to build the app, so ``zero-llm --help`` answers at once.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Annotated

import typer

from zero_llm.cli import (
    ask,
    chat,
    common,
    config,
    doctor,
    emulate,
    history,
    hosts,
    logs,
    models,
    resident,
)

__all__ = ["app"]

app = typer.Typer(
    name="zero-llm",
    help="ZERO's model manager for local LLMs on Ollama.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        from zero_llm import __version__

        typer.echo(f"zero-llm {__version__}")
        raise typer.Exit()


@app.callback()
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


for command in (
    ask.ask,
    chat.chat,
    ask.route,
    models.models,
    models.ps,
    hosts.hosts,
    models.load,
    models.pull,
    models.unload,
    models.rm,
    history.usage,
    logs.logs,
    config.config,
    doctor.doctor,
    ask.demo,
    emulate.emulate,
):
    app.command()(command)
app.add_typer(history.sessions_app, name="sessions")
app.add_typer(history.history_app, name="history")
app.add_typer(resident.resident_app, name="resident")
