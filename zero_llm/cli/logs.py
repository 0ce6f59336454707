"""The ``logs`` command: past calls with their question and answer, newest last.

In: filters (session, model, task, text, since, failures only), how many (``-n``).
Out: for each call a header line (time, model, task, session, latency, status) and its
question and answer as stored (decrypted with the history key), or ``--json``. A call's
usage record and its stored turn are joined by the call's request id (kept with the
stored answer); a call that stored no turn (no session, a failure) shows its record only.
Every stored text is stripped of terminal control sequences before it is printed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Annotated

import typer

from zero_llm.cli.common import JsonOption, echo_json, say
from zero_llm.cli.records import RecordReads, run_reading_records
from zero_llm.cli.sanitize import printable

if TYPE_CHECKING:
    from zero_llm.history.store import StoredMessage
    from zero_llm.usage.record import UsageRecord

__all__ = ["LoggedCall", "join_turns", "logs"]


@dataclass(frozen=True)
class LoggedCall:
    """One past call: its record's facts and, when stored, its question and answer."""

    request_id: str
    created_at: str
    session_id: str | None
    model: str | None
    task: str | None
    status: str
    error: str | None
    latency_s: float | None
    prompt_tokens: int | None
    output_tokens: int | None
    emulated: bool
    question: str | None
    answer: str | None


def join_turns(
    records: list[UsageRecord], messages: dict[str, list[StoredMessage]]
) -> list[LoggedCall]:
    """Each record with the question and answer its session stored for it (pure)."""
    turns: dict[str, tuple[str | None, str]] = {}
    for stored in messages.values():
        question: str | None = None
        for message in stored:
            if message.role == "human":
                question = message.content
            elif message.role == "ai":
                meta = message.extra.get("response_metadata") or {}
                if isinstance(meta, dict) and meta.get("request_id"):
                    turns[str(meta["request_id"])] = (question, message.content)
    calls = []
    for record in records:
        question, answer = turns.get(record.request_id, (None, None))
        calls.append(
            LoggedCall(
                request_id=record.request_id,
                created_at=record.created_at.isoformat(timespec="seconds"),
                session_id=record.session_id,
                model=record.model or record.requested_model,
                task=record.task,
                status=record.status,
                error=record.error,
                latency_s=record.latency_s,
                prompt_tokens=record.prompt_tokens,
                output_tokens=record.output_tokens,
                emulated=record.emulated,
                question=question,
                answer=answer,
            )
        )
    return calls


def _matches(call: LoggedCall, text: str | None, failed: bool) -> bool:
    if failed and call.status != "error":
        return False
    if text is None:
        return True
    needle = text.casefold()
    return any(needle in (part or "").casefold() for part in (call.question, call.answer))


def logs(
    count: Annotated[int, typer.Option("-n", "--count", help="How many calls (newest).")] = 10,
    session: Annotated[str | None, typer.Option(help="Only this conversation.")] = None,
    model: Annotated[str | None, typer.Option(help="Only calls this model answered.")] = None,
    task: Annotated[str | None, typer.Option(help="Only calls of this task.")] = None,
    text: Annotated[
        str | None, typer.Option("--text", "-t", help="Only calls whose question or answer has it.")
    ] = None,
    since: Annotated[str | None, typer.Option(help="Only since: 30m, 6h, 2d, ISO date.")] = None,
    failed: Annotated[bool, typer.Option("--failed", help="Only failed calls.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Past calls with their question and answer (decrypted with the history key)."""
    from zero_llm.cli.history import parse_since

    start = parse_since(since)

    async def body(store: RecordReads) -> list[LoggedCall]:
        role = store.catalog.find_role(model) if model else None
        name = store.catalog.models[role].name if role else model  # "llama" is llama3.1:8b
        records = await store.usage.records(model=name, task=task, session_id=session, since=start)
        if text is None:  # which calls are shown is known before any text is read
            records = [r for r in records if not failed or r.status == "error"][-max(count, 1) :]
        sessions = {r.session_id for r in records if r.session_id}
        stored = {}
        for conversation in sessions:
            stored[conversation] = await store.history.messages(conversation)
        return join_turns(records, stored)

    calls = [c for c in run_reading_records(body) if _matches(c, text, failed)][-max(count, 1) :]
    if as_json:
        echo_json([asdict(c) for c in calls])
        return
    for call in calls:
        latency = "?" if call.latency_s is None else f"{call.latency_s:.2f}s"
        status = call.status if call.status != "error" else f"error: {call.error}"
        header = (
            f"# {call.created_at}  {call.model}  task={call.task or '-'}  "
            f"session={call.session_id or '-'}  {latency}  {status}"
            + ("  EMULATED (not a model's answer)" if call.emulated else "")
        )
        say(printable(header), style="dim")
        if call.question is not None:
            say(printable("> " + call.question.replace("\n", "\n> ")))
        if call.answer is not None:
            say(printable(call.answer))
        elif call.question is None:
            say("(no text stored: the call had no session, or failed)", style="dim")
        say("")
