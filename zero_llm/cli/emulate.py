"""The ``emulate`` command: serve the Ollama emulator (needs the ``emulator`` extra).

In: interface, port and time scale. Out: an Ollama-compatible server until Ctrl-C, or
one line saying what to install when the extra's packages are missing.
"""

from __future__ import annotations

import importlib.util
from contextlib import suppress
from typing import TYPE_CHECKING, Annotated

import typer

from zero_llm.cli.common import fail

if TYPE_CHECKING:
    from zero_llm.testing import OllamaEmulator

__all__ = ["EMULATOR_MODULES", "emulate", "emulator_class"]

EMULATOR_MODULES = {"aiohttp": "aiohttp", "quicktok": "quicktok-v1"}
"""Module -> distribution of what only the emulator needs (the ``emulator`` extra)."""


def emulator_class() -> type[OllamaEmulator]:
    """The emulator class, or exit saying which extra to install when it is missing."""
    missing = [dist for mod, dist in EMULATOR_MODULES.items() if not _importable(mod)]
    if missing:
        raise fail(
            f"the Ollama emulator needs {', '.join(missing)}, which is not installed: "
            "pip install 'zero-llm[emulator]'"
        )
    from zero_llm.testing import OllamaEmulator

    return OllamaEmulator


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a module set to None in sys.modules
        return False


def emulate(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0: any free port).")] = 11434,
    time_scale: Annotated[
        float, typer.Option(help="Real seconds per simulated second (0: instant).")
    ] = 0.0,
) -> None:
    """Serve the Ollama emulator (Ollama's REST API, no weights) until interrupted."""
    OllamaEmulator = emulator_class()

    emulator = OllamaEmulator(host, port, time_scale=time_scale)
    try:
        emulator.start()
    except OSError as exc:
        typer.secho(f"error: cannot listen on {host}:{port}: {exc.strerror}", err=True, fg="red")
        raise typer.Exit(1) from None
    typer.echo(f"Ollama emulator listening on {emulator.base_url} (Ctrl-C stops it)", err=True)
    with suppress(KeyboardInterrupt):
        emulator.serve_forever()
