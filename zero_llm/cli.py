"""The ``zero-llm`` command: ask, route, manage models, and serve the emulator.

Every command builds its ``ModelManager`` from the usual settings sources. A user
mistake or an unreachable server ends in one clear line on stderr and exit code 1,
never a traceback.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager, suppress
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
from rich.table import Table

from zero_llm.answer import Answer, AnswerStream
from zero_llm.backend import PullProgress
from zero_llm.errors import OllamaUnavailableError, ZeroLLMError
from zero_llm.manager import ModelManager

__all__ = ["app", "main"]

T = TypeVar("T")

app = typer.Typer(
    name="zero-llm",
    help="ZERO's model manager for local LLMs on Ollama.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run one coroutine for a command, turning zero_llm errors into one line and exit 1."""
    try:
        return asyncio.run(coro)
    except ZeroLLMError as exc:
        err.print(f"[bold red]error:[/] {type(exc).__name__}: {exc}", markup=True)
        raise typer.Exit(1) from None


def _manager(host: str | None) -> ModelManager:
    try:
        return ModelManager(ollama_host=host) if host else ModelManager()
    except ZeroLLMError as exc:
        err.print(f"[bold red]error:[/] {exc}", markup=True)
        raise typer.Exit(1) from None


HostOption = Annotated[
    str | None, typer.Option("--host", help="Ollama host (default: OLLAMA_HOST or settings).")
]


async def _stream_answer(
    manager: ModelManager,
    text: str,
    task: str | None,
    model: str | None,
    context: str,
    stream: bool,
    as_json: bool,
) -> Answer:
    if model is not None:
        result = await manager.query_model(model, text, context, stream=stream)
    else:
        result = await manager.ask(text, task=task, context=context, stream=stream)
    if isinstance(result, AnswerStream):
        async for chunk in result:
            if not as_json:
                out.print(chunk, end="", markup=False)
        answer = result.answer
        assert answer is not None
        if not as_json:
            out.print()
    else:
        answer = result
        if not as_json:
            out.print(answer.text, markup=False)
    return answer


def _summary(answer: Answer) -> str:
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


@app.command()
def ask(
    text: Annotated[str, typer.Argument(help="The question.")],
    task: Annotated[str | None, typer.Option(help="Task type: code, trading, quick, ...")] = None,
    model: Annotated[str | None, typer.Option(help="Ask this model, bypassing routing.")] = None,
    context: Annotated[str, typer.Option(help="System context for the question.")] = "",
    no_stream: Annotated[bool, typer.Option("--no-stream", help="Print the answer whole.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    host: HostOption = None,
) -> None:
    """Ask a question; the router picks the model unless --model says which."""
    manager = _manager(host)
    answer = _run(_stream_answer(manager, text, task, model, context, not no_stream, as_json))
    if as_json:
        out.print(
            json.dumps({"answer": answer.text, **answer.trace.metadata()}, default=str),
            markup=False,
        )
    else:
        err.print(_summary(answer), style="dim")


@app.command()
def route(
    text: Annotated[str, typer.Argument(help="The request text.")],
    task: Annotated[str | None, typer.Option(help="An explicit task type.")] = None,
) -> None:
    """Show which model would answer, and why, without calling any model."""
    manager = _manager(None)
    try:
        decision = manager.route(text, task)
    except ZeroLLMError as exc:
        err.print(f"[bold red]error:[/] {exc}", markup=True)
        raise typer.Exit(1) from None
    out.print(f"{decision.model}  (task={decision.task}, role={decision.role})", markup=False)
    out.print(f"reason: {decision.reason}", markup=False)


@contextmanager
def _progress_bar(name: str) -> Iterator[Callable[[PullProgress], None]]:
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=err,
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


@app.command()
def load(
    name: Annotated[str, typer.Argument(help="Model name or short name (llama, qwen, deepseek).")],
    host: HostOption = None,
) -> None:
    """Pull the model if it is missing (with a progress bar), then load it into memory."""
    manager = _manager(host)
    with _progress_bar(name) as report:
        result = _run(manager.load_model(name, report))
    out.print(
        f"{result.model} loaded in {result.load_seconds:.2f}s (num_ctx={result.num_ctx}"
        f"{', pulled' if result.pulled else ''})",
        markup=False,
    )


@app.command()
def pull(
    name: Annotated[str, typer.Argument(help="Model name or short name.")],
    host: HostOption = None,
) -> None:
    """Pull a model with a progress bar."""
    manager = _manager(host)
    with _progress_bar(name) as report:
        model = _run(manager.pull_model(name, report))
    out.print(f"{model} pulled", markup=False)


@app.command()
def unload(
    name: Annotated[str, typer.Argument(help="Model name or short name.")],
    host: HostOption = None,
) -> None:
    """Evict a model from Ollama's memory now."""
    manager = _manager(host)
    _run(manager.unload_model(name))
    out.print(f"{manager.spec(name).name} unloaded", markup=False)


@app.command()
def ps(host: HostOption = None) -> None:
    """List the models in Ollama's memory."""
    manager = _manager(host)
    loaded = _run(manager.loaded_models())
    table = Table("model", "num_ctx", "memory", "expires")
    for m in loaded:
        size = f"{(m.size_vram or 0) / 2**30:.1f} GiB"
        table.add_row(m.name, str(m.context_length or "?"), size, str(m.expires_at or "?"))
    out.print(table)


@app.command()
def models(host: HostOption = None) -> None:
    """List the catalog: each role's model, whether it is present and loaded, its num_ctx."""
    manager = _manager(host)
    statuses = _run(manager.model_statuses())
    table = Table("role", "model", "tasks", "present", "loaded", "num_ctx", "context length")
    for s in statuses:
        table.add_row(
            s.role,
            s.model,
            ", ".join(s.tasks),
            "yes" if s.present else "no",
            "yes" if s.loaded else "no",
            str(s.num_ctx or "?"),
            str(s.context_length or "?"),
        )
    out.print(table)


@app.command()
def emulate(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0: any free port).")] = 11434,
    time_scale: Annotated[
        float, typer.Option(help="Real seconds per simulated second (0: instant).")
    ] = 0.0,
) -> None:
    """Serve the Ollama emulator (Ollama's REST API, no weights) until interrupted."""
    from zero_llm.testing import OllamaEmulator

    emulator = OllamaEmulator(host, port, time_scale=time_scale)
    try:
        emulator.start()
    except OSError as exc:
        err.print(
            f"[bold red]error:[/] cannot listen on {host}:{port}: {exc.strerror}", markup=True
        )
        raise typer.Exit(1) from None
    err.print(f"Ollama emulator listening on {emulator.base_url} (Ctrl-C stops it)")
    with suppress(KeyboardInterrupt):
        emulator.serve_forever()


@app.command()
def demo(
    text: Annotated[str, typer.Argument(help="The question.")] = (
        "Why might a rising dollar hurt $AAPL, and what is the risk for a long position?"
    ),
    host: HostOption = None,
) -> None:
    """Ask a routed, streamed question: to Ollama if reachable, else to the built-in emulator."""
    manager = _manager(host)
    try:
        version = _run_quiet(manager.backend.version())
    except OllamaUnavailableError:
        version = None
    if version is not None:
        err.print(f"Ollama {version} at {manager.settings.ollama_base_url}")
        _demo_ask(manager, text)
        return
    from zero_llm.testing import OllamaEmulator

    err.print(
        f"No Ollama at {manager.settings.ollama_base_url}: answering with zero_llm's built-in "
        "emulator. THE ANSWER BELOW IS EMULATED, not written by a model."
    )
    with OllamaEmulator() as emulator:
        _demo_ask(ModelManager(manager.settings, ollama_host=emulator.base_url), text)


def _run_quiet(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def _demo_ask(manager: ModelManager, text: str) -> None:
    decision = manager.route(text)
    err.print(f"route: {decision.model} ({decision.reason})", style="dim")
    answer = _run(_stream_answer(manager, text, None, None, "", True, False))
    err.print(_summary(answer), style="dim")


def main() -> None:
    """Entry point of the ``zero-llm`` console script."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
