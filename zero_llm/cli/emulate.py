"""The ``emulate`` command: serve the Ollama emulator (needs the ``emulator`` extra).

In: interface, port, time scale and the server's memory and queue settings. Out: an
Ollama-compatible server until Ctrl-C, or one line saying what to install when the extra's
packages are missing.
"""

from __future__ import annotations

import importlib.util
import logging
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
    gpu_memory: Annotated[
        str | None, typer.Option(help="GPU memory, e.g. 24GiB (default: unlimited).")
    ] = None,
    num_parallel: Annotated[
        int, typer.Option(help="Requests at once per loaded model (OLLAMA_NUM_PARALLEL).")
    ] = 1,
    max_loaded_models: Annotated[
        int, typer.Option(help="Models loaded at once (OLLAMA_MAX_LOADED_MODELS).")
    ] = 3,
    max_queue: Annotated[
        int, typer.Option(help="Pending requests before 503 server busy (OLLAMA_MAX_QUEUE).")
    ] = 512,
    kv_cache_type: Annotated[
        str, typer.Option(help="KV cache type: f16, q8_0 or q4_0 (OLLAMA_KV_CACHE_TYPE).")
    ] = "f16",
) -> None:
    """Serve the Ollama emulator (Ollama's REST API, no weights) until interrupted."""
    OllamaEmulator = emulator_class()
    from zero_llm.testing.scheduler import parse_size

    try:
        emulator = OllamaEmulator(
            host,
            port,
            time_scale=time_scale,
            gpu_memory=parse_size(gpu_memory) if gpu_memory else None,
            num_parallel=num_parallel,
            max_loaded_models=max_loaded_models,
            max_queue=max_queue,
            kv_cache_type=kv_cache_type,  # type: ignore[arg-type]  # checked by the emulator
        )
        emulator.start()
    except ValueError as exc:
        typer.secho(f"error: {exc}", err=True, fg="red")
        raise typer.Exit(2) from None
    except OSError as exc:
        typer.secho(f"error: cannot listen on {host}:{port}: {exc.strerror}", err=True, fg="red")
        raise typer.Exit(1) from None
    _log_scheduler_events()
    typer.echo(f"Ollama emulator listening on {emulator.base_url} (Ctrl-C stops it)", err=True)
    with suppress(KeyboardInterrupt):
        emulator.serve_forever()


def _log_scheduler_events() -> None:
    """One line per load and eviction on stderr."""
    events = logging.getLogger("zero_llm.testing.scheduler")
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    events.addHandler(handler)
    events.setLevel(logging.INFO)
    events.propagate = False
