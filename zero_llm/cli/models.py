"""The model commands: ``models``, ``ps``, ``load``, ``pull`` and ``unload``.

In: model names or short names, the Ollama host. Out: the catalog and memory tables
(``--json`` for scripts), progress bars on stderr while pulling.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

from zero_llm.cli.common import (
    HostOption,
    JsonOption,
    echo_json,
    print_table,
    run_with_manager,
    say,
    table,
)

if TYPE_CHECKING:
    from zero_llm.manager import ModelManager
    from zero_llm.ollama.client import PullProgress

__all__ = ["load", "models", "ps", "pull", "unload"]

NameArgument = Annotated[
    str, typer.Argument(help="Model name or short name (llama, qwen, deepseek).")
]


@contextmanager
def _progress_bar() -> Iterator[Callable[[PullProgress], None]]:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TransferSpeedColumn,
    )

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=Console(stderr=True),
        transient=False,
    ) as bar:
        tasks: dict[str, Any] = {}

        def report(step: PullProgress) -> None:
            key = step.digest or step.status
            if key not in tasks:
                tasks[key] = bar.add_task(step.status, total=step.total)
            bar.update(
                tasks[key], completed=step.completed or 0, total=step.total, description=step.status
            )

        yield report


def load(name: NameArgument, host: HostOption = None) -> None:
    """Pull the model if it is missing (with a progress bar), then load it into memory."""
    with _progress_bar() as report:
        result = run_with_manager(lambda m: m.load_model(name, report), host)
    say(
        f"{result.model} loaded in {result.load_seconds:.2f}s (num_ctx={result.num_ctx}"
        f"{', pulled' if result.pulled else ''})"
    )


def pull(name: NameArgument, host: HostOption = None) -> None:
    """Pull a model with a progress bar."""
    with _progress_bar() as report:
        model = run_with_manager(lambda m: m.pull_model(name, report), host)
    say(f"{model} pulled")


def unload(name: NameArgument, host: HostOption = None) -> None:
    """Evict a model from Ollama's memory now."""

    async def body(manager: ModelManager) -> str:
        await manager.unload_model(name)
        return manager.spec(name).name

    say(f"{run_with_manager(body, host)} unloaded")


def _gib(size: int | None) -> str:
    return "?" if size is None else f"{size / 2**30:.1f} GiB"


def ps(host: HostOption = None, as_json: JsonOption = False) -> None:
    """List the models in Ollama's memory."""
    loaded = run_with_manager(lambda m: m.loaded_models(), host)
    if as_json:
        echo_json(loaded)
        return
    rows = table("model", "num_ctx", "memory", "expires")
    for m in loaded:
        expires = m.expires_at.strftime("%Y-%m-%d %H:%M:%S") if m.expires_at else "?"
        rows.add_row(m.name, str(m.context_length or "?"), _gib(m.size_vram), expires)
    print_table(rows)


def models(host: HostOption = None, as_json: JsonOption = False) -> None:
    """List the catalog: each role's model, its state in Ollama, its num_ctx and max context."""
    statuses = run_with_manager(lambda m: m.model_statuses(), host)
    if as_json:
        echo_json(statuses)
        return
    rows = table("role", "model", "tasks", "state", "num_ctx", "max ctx", flexible=("tasks",))
    for s in statuses:
        state = "loaded" if s.loaded else ("present" if s.present else "missing")
        rows.add_row(
            s.role,
            s.model,
            ", ".join(s.tasks) or "(default)",
            state,
            str(s.num_ctx or "?"),
            str(s.context_length or "?"),
        )
    print_table(rows)
