"""``zero-llm resident status|stop``: the resident processes that answer ``ask``.

In: this user's resident sockets. Out: each process's pid, working directory, age, asks
and idle time (``--json`` for scripts), or its orderly stop.
"""

from __future__ import annotations

import time
from typing import Any

import typer

from zero_llm.cli.common import JsonOption, echo_json, fail, print_table, say, table

__all__ = ["resident_app", "status", "stop"]

resident_app = typer.Typer(
    help="The resident processes that answer 'zero-llm ask'.", no_args_is_help=True
)


def _replies(command: str) -> list[dict[str, Any]]:
    from zero_llm.resident.client import resident_replies

    try:
        return [reply for _, reply in resident_replies(command)]
    except OSError as exc:  # ResidentUnavailableError among them
        raise fail(str(exc)) from None


@resident_app.command()
def status(as_json: JsonOption = False) -> None:
    """List the resident processes: pid, working directory, age, asks, idle seconds."""
    found = [reply["status"] for reply in _replies("status")]
    if as_json:
        echo_json(found)
        return
    if not found:
        say("no resident process (the next 'zero-llm ask' starts one)")
        return
    rows = table("pid", "asks", "age", "idle", "cwd", flexible=("cwd",))
    now = time.time()
    for item in found:
        rows.add_row(
            str(item["pid"]),
            str(item["asks"]),
            f"{now - float(item['started']):.0f}s",
            f"{item['idle_s']}s of {item['idle_limit_s']:.0f}s",
            str(item["cwd"]),
        )
    print_table(rows)


@resident_app.command()
def stop() -> None:
    """Stop every resident process of this user (each closes its managers first)."""
    stopped = _replies("stop")
    say(f"stopped {len(stopped)} resident process{'es' if len(stopped) != 1 else ''}")
