"""The ``zero-llm`` command: ask, route, manage models, and serve the emulator.

Every command builds its ``ModelManager`` from the usual settings sources. A user
mistake or an unreachable server ends in one clear line on stderr and exit code 1,
never a traceback.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
from rich.table import Column, Table

from zero_llm.answer import Answer, AnswerStream
from zero_llm.errors import InvalidRequestError, OllamaUnavailableError, ZeroLLMError
from zero_llm.manager import ModelManager
from zero_llm.ollama.client import PullProgress

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


@app.callback()
def _options(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log retries, fallbacks and every call.")
    ] = False,
) -> None:
    """ZERO's model manager for local LLMs on Ollama."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.ERROR,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not verbose:
        logging.getLogger("httpx").setLevel(logging.WARNING)


def _fail(exc: ZeroLLMError) -> typer.Exit:
    err.print(f"[bold red]error:[/] {type(exc).__name__}: {exc}", markup=True)
    return typer.Exit(1)


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run one coroutine for a command, turning zero_llm errors into one line and exit 1."""
    try:
        return asyncio.run(coro)
    except ZeroLLMError as exc:
        raise _fail(exc) from None


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
    session: str | None = None,
) -> Answer:
    if model is not None:
        result = await manager.query_model(model, text, context, stream, session_id=session)
    else:
        result = await manager.ask(
            text, task=task, context=context, stream=stream, session_id=session
        )
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
    await manager.flush_usage()
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
    session: Annotated[
        str | None, typer.Option(help="Remember the turn in this conversation.")
    ] = None,
    context: Annotated[str, typer.Option(help="System context for the question.")] = "",
    no_stream: Annotated[bool, typer.Option("--no-stream", help="Print the answer whole.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    host: HostOption = None,
) -> None:
    """Ask a question; the router picks the model unless --model says which."""
    manager = _manager(host)
    answer = _run(
        _stream_answer(manager, text, task, model, context, not no_stream, as_json, session)
    )
    if as_json:
        out.print(
            json.dumps({"answer": answer.text, **answer.trace.metadata()}, default=str),
            markup=False,
        )
    else:
        err.print(_summary(answer), style="dim")


@app.command()
def chat(
    session: Annotated[
        str | None, typer.Option(help="Conversation to continue (default: a new one).")
    ] = None,
    host: HostOption = None,
) -> None:
    """Talk with ZERO's models; /task NAME, /model NAME (or /model auto), /exit."""
    manager = _manager(host)
    session_id = session or datetime.now().strftime("chat-%Y%m%d-%H%M%S")
    task: str | None = None
    model: str | None = None
    err.print(f"session {session_id}: /task NAME, /model NAME, /model auto, /exit")
    while True:
        try:
            line = input("you> ").strip()
        except (EOFError, KeyboardInterrupt):
            break
        if not line:
            continue
        if line in ("/exit", "/quit"):
            break
        if line.startswith("/task"):
            task = line.removeprefix("/task").strip() or None
            err.print(f"task: {task or 'chosen from the text'}")
            continue
        if line.startswith("/model"):
            name = line.removeprefix("/model").strip()
            try:
                model = None if name in ("", "auto") else manager.spec(name).name
            except ZeroLLMError as exc:
                err.print(f"[bold red]error:[/] {exc}", markup=True)
                continue
            err.print(f"model: {model or 'routed'}")
            continue
        try:
            answer = asyncio.run(
                _stream_answer(manager, line, task, model, "", True, False, session_id)
            )
        except ZeroLLMError as exc:
            err.print(f"[bold red]error:[/] {type(exc).__name__}: {exc}", markup=True)
            continue
        err.print(_summary(answer), style="dim")
    err.print(f"bye (session {session_id} is kept)")


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
    table = Table(Column("model", no_wrap=True), "num_ctx", "memory", "expires")
    for m in loaded:
        size = f"{(m.size_vram or 0) / 2**30:.1f} GiB"
        table.add_row(m.name, str(m.context_length or "?"), size, str(m.expires_at or "?"))
    out.print(table)


@app.command()
def models(host: HostOption = None) -> None:
    """List the catalog: each role's model, whether it is present and loaded, its num_ctx."""
    manager = _manager(host)
    statuses = _run(manager.model_statuses())
    table = Table(
        "role",
        Column("model", no_wrap=True),
        "tasks",
        "present",
        "loaded",
        "num_ctx",
        "context length",
    )
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
    import logging

    from zero_llm.testing import OllamaEmulator
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
            kv_cache_type=kv_cache_type,  # type: ignore[arg-type]  # checked by the settings
        )
        emulator.start()
    except ValueError as exc:
        err.print(f"[bold red]error:[/] {exc}", markup=True)
        raise typer.Exit(2) from None
    except OSError as exc:
        err.print(
            f"[bold red]error:[/] cannot listen on {host}:{port}: {exc.strerror}", markup=True
        )
        raise typer.Exit(1) from None
    events = logging.getLogger("zero_llm.testing.scheduler")
    handler = logging.StreamHandler()  # one line per load and eviction, on stderr
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    events.addHandler(handler)
    events.setLevel(logging.INFO)
    events.propagate = False
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
        version = asyncio.run(manager.backend.version())
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


def _demo_ask(manager: ModelManager, text: str) -> None:
    decision = manager.route(text)
    err.print(f"route: {decision.model} ({decision.reason})", style="dim")
    answer = _run(_stream_answer(manager, text, None, None, "", True, False))
    err.print(_summary(answer), style="dim")


sessions_app = typer.Typer(help="Remembered conversations.", no_args_is_help=True)
app.add_typer(sessions_app, name="sessions")


@sessions_app.command("list")
def sessions_list(limit: Annotated[int, typer.Option(help="How many.")] = 50) -> None:
    """List conversations, most recent first."""
    manager = _manager(None)
    found = _run(manager.history.sessions(limit=limit))
    table = Table(Column("session", no_wrap=True), "title", "messages", "tokens", "updated")
    for info in found:
        table.add_row(
            info.id,
            info.title or "",
            str(info.message_count),
            str(info.total_tokens),
            info.updated_at.strftime("%Y-%m-%d %H:%M"),
        )
    out.print(table)


@sessions_app.command("show")
def sessions_show(
    session: Annotated[str, typer.Argument(help="Session id.")],
    last: Annotated[int, typer.Option(help="Show the last N messages.")] = 20,
) -> None:
    """Show the last messages of a conversation."""
    manager = _manager(None)
    if _run(manager.history.session(session)) is None:
        raise _fail(InvalidRequestError(f"there is no session {session!r}"))
    for message in _run(manager.history.messages(session, limit=last)):
        who = {"human": "you", "ai": message.model or "ai"}.get(message.role, message.role)
        out.print(f"[{message.seq}] {who}: {message.content}", markup=False)


@sessions_app.command("delete")
def sessions_delete(session: Annotated[str, typer.Argument(help="Session id.")]) -> None:
    """Delete a conversation and its messages."""
    manager = _manager(None)
    if not _run(manager.history.delete_session(session)):
        raise _fail(InvalidRequestError(f"there is no session {session!r}"))
    out.print(f"deleted {session}", markup=False)


@sessions_app.command("export")
def sessions_export(session: Annotated[str, typer.Argument(help="Session id.")]) -> None:
    """Print a conversation as JSON."""
    manager = _manager(None)
    exported = _run(manager.history.export_session(session))
    out.print(json.dumps(exported, ensure_ascii=False, indent=2), markup=False)


_SINCE = re.compile(r"^(\d+)([smhdw])$")


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    match = _SINCE.match(value.strip())
    if match:
        unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
        delta = timedelta(**{unit[match.group(2)]: int(match.group(1))})
        return datetime.now(UTC) - delta
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _fail(
            InvalidRequestError(
                f"--since {value!r}: give a duration like 30m, 6h, 2d or an ISO date"
            )
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@app.command()
def usage(
    by: Annotated[str | None, typer.Option(help="Group by model, task or session.")] = None,
    since: Annotated[
        str | None, typer.Option(help="Only calls since: 30m, 6h, 2d, ISO date.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Summarize recorded calls: count, failures, latency, tokens."""
    if by not in (None, "model", "task", "session"):
        raise _fail(InvalidRequestError(f"--by {by!r}: choose model, task or session"))
    manager = _manager(None)
    summaries = _run(manager.usage.summary(by, since=_since(since)))  # type: ignore[arg-type]
    if as_json:
        from dataclasses import asdict

        out.print(json.dumps([asdict(x) for x in summaries]), markup=False)
        return
    table = Table(
        Column(by or "all", no_wrap=True),
        "calls",
        "failed",
        "retries",
        "p50 s",
        "p95 s",
        "p50 first",
        "tokens in",
        "tokens out",
        "tok/s",
    )

    def num(value: float | None) -> str:
        return "?" if value is None else f"{value:.2f}"

    for x in summaries:
        table.add_row(
            str(x.key or "-"),
            str(x.calls),
            str(x.failures),
            str(x.retries),
            num(x.latency_p50_s),
            num(x.latency_p95_s),
            num(x.first_token_p50_s),
            str(x.prompt_tokens),
            str(x.output_tokens),
            num(x.tokens_per_second),
        )
    out.print(table)


def main() -> None:
    """Entry point of the ``zero-llm`` console script."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
