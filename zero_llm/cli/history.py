"""The record commands: ``sessions list|show|delete|export``, ``usage``, ``history rotate-key``.

In: session ids, grouping and time filters. Out: conversations and usage summaries as
tables readable at 80 columns, or JSON (``--json``) for scripts.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from zero_llm.cli.common import (
    JsonOption,
    compact_count,
    echo_json,
    fail,
    print_table,
    say,
    table,
)
from zero_llm.cli.records import RecordReads, Records, run_reading_records, run_with_records
from zero_llm.cli.sanitize import printable

if TYPE_CHECKING:
    from zero_llm.history.store import StoredMessage

__all__ = ["history_app", "parse_since", "sessions_app", "usage"]

sessions_app = typer.Typer(help="Remembered conversations.", no_args_is_help=True)
history_app = typer.Typer(help="The history database itself: its key.", no_args_is_help=True)
SessionArgument = Annotated[str, typer.Argument(help="Session id.")]


@sessions_app.command("list")
def sessions_list(
    limit: Annotated[int, typer.Option(help="How many.")] = 50, as_json: JsonOption = False
) -> None:
    """List conversations, most recent first."""
    found = run_reading_records(lambda m: m.history.sessions(limit=limit))
    if as_json:
        echo_json(found)
        return
    rows = table("session", "title", "messages", "tokens", "updated", flexible=("title",))
    for info in found:
        rows.add_row(
            printable(info.id),
            printable(info.title or ""),
            str(info.message_count),
            compact_count(info.total_tokens),
            info.updated_at.strftime("%Y-%m-%d %H:%M"),
        )
    print_table(rows)


@sessions_app.command("show")
def sessions_show(
    session: SessionArgument,
    last: Annotated[int, typer.Option(help="Show the last N messages.")] = 20,
) -> None:
    """Show the last messages of a conversation."""

    async def body(records: RecordReads) -> list[StoredMessage] | None:
        if await records.history.session(session) is None:
            return None
        return await records.history.messages(session, limit=last)

    messages = run_reading_records(body)
    if messages is None:
        raise fail(f"there is no session {session!r}")
    for message in messages:
        who = {"human": "you", "ai": message.model or "ai"}.get(message.role, message.role)
        say(printable(f"[{message.seq}] {who}: {message.content}"))


@sessions_app.command("delete")
def sessions_delete(session: SessionArgument) -> None:
    """Delete a conversation and its messages."""
    if not run_with_records(lambda m: m.history.delete_session(session)):
        raise fail(f"there is no session {session!r}")
    say(f"deleted {session}")


@sessions_app.command("export")
def sessions_export(session: SessionArgument) -> None:
    """Print a conversation as JSON."""
    import json

    exported = run_with_records(lambda m: m.history.export_session(session))
    typer.echo(json.dumps(exported, ensure_ascii=False, indent=2))


_SINCE = re.compile(r"^(\d+)([smhdw])$")


def parse_since(value: str | None) -> datetime | None:
    """A ``--since`` value (30m, 6h, 2d, 1w or an ISO date) as a UTC time."""
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
        raise fail(
            f"InvalidRequestError: --since {value!r}: give a duration like 30m, 6h, 2d "
            "or an ISO date"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _seconds(value: float | None) -> str:
    return "?" if value is None else f"{value:.2f}"


def usage(
    by: Annotated[str | None, typer.Option(help="Group by model, task or session.")] = None,
    since: Annotated[
        str | None, typer.Option(help="Only calls since: 30m, 6h, 2d, ISO date.")
    ] = None,
    emulated: Annotated[
        bool, typer.Option("--emulated", help="Count emulated answers too (zero-llm demo).")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Summarize recorded calls: count, failures, latency, first token, tokens, speed.

    Answers from the emulator (zero-llm demo without Ollama) are left out unless --emulated.
    """
    if by not in (None, "model", "task", "session"):
        raise fail(f"InvalidRequestError: --by {by!r}: choose model, task or session")
    start = parse_since(since)
    summaries = run_reading_records(
        lambda m: m.usage.summary(by, since=start, include_emulated=emulated)  # type: ignore[arg-type]
    )
    if as_json:
        echo_json(summaries)
        return
    rows = table(
        by or "all",
        "calls",
        "fail",
        "retry",
        "cold",
        "p50 s",
        "p95 s",
        "ttft s",
        "in",
        "out",
        "tok/s",
        flexible=(by or "all",),
        title="latency p50/p95, ttft: median time to first token; cold: cold loads",
    )
    for x in summaries:
        rows.add_row(
            str(x.key or "-"),
            str(x.calls),
            str(x.failures),
            str(x.retries),
            str(x.cold_loads),
            _seconds(x.latency_p50_s),
            _seconds(x.latency_p95_s),
            _seconds(x.first_token_p50_s),
            compact_count(x.prompt_tokens),
            compact_count(x.output_tokens),
            "?" if x.tokens_per_second is None else f"{x.tokens_per_second:.0f}",
        )
    print_table(rows)


@history_app.command("rotate-key")
def rotate_key(
    new_key_file: Annotated[
        Path,
        typer.Option(
            "--new-key-file",
            help="A private (mode 600) file holding the new key (zero_llm.history.generate_key).",
        ),
    ],
) -> None:
    """Re-encrypt the whole history in place with a new key (the current one from settings).

    A plain history is encrypted for the first time the same way. Crash-safe: each batch
    commits with its progress mark; if it stops, run it again with the same keys to finish.
    """
    from zero_llm.errors import ZeroLLMError
    from zero_llm.history.crypto import load_key
    from zero_llm.history.keys import rotate_key as rotate

    try:
        new_key = load_key(None, new_key_file)
    except ZeroLLMError as exc:
        raise fail(str(exc)) from None
    if not new_key:
        raise fail(f"the key file {new_key_file} is empty")

    def show(table_name: str, done: int) -> None:
        say(f"re-sealed {done} rows (now {table_name})", err=True, style="dim")

    async def body(records: Records) -> int:
        old_key = records.settings.history_encryption_key()
        database = records.database
        return await database.call(rotate(database, old_key, new_key, show))

    rows = run_with_records(body)
    say(
        f"the history is now sealed with the key in {new_key_file} ({rows} rows re-sealed); "
        f"point ZERO_LLM_HISTORY_KEY or history_key_file at it"
    )
