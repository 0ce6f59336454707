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


def _statuses() -> list[dict[str, Any]]:
    """Each process's status; one that speaks another protocol shows what it can."""
    found = []
    for reply in _replies("status"):
        item = reply.get("status")
        if isinstance(item, dict):
            found.append(item)
        else:  # an older zero-llm that answers status only to its own protocol
            found.append({"pid": None, "note": str(reply.get("err", "another zero-llm version"))})
    return found


@resident_app.command()
def status(as_json: JsonOption = False) -> None:
    """List the resident processes: pid, Ollama host, age, asks, idle seconds, memory, folder."""
    found = _statuses()
    if as_json:
        echo_json(found)
        return
    if not found:
        say("no resident process (the next 'zero-llm ask' starts one)")
        return
    rows = table("pid", "host", "asks", "age", "idle", "memory", "cwd", flexible=("cwd",))
    now = time.time()
    for item in found:
        started = item.get("started")
        idle, limit = item.get("idle_s"), item.get("idle_limit_s")
        rows.add_row(
            str(item.get("pid") or "?"),
            ", ".join(item.get("ollama") or item.get("hosts") or ["?"]),
            str(item.get("asks", "?")),
            "?" if started is None else f"{now - float(started):.0f}s",
            "?" if idle is None or limit is None else f"{idle}s of {float(limit):.0f}s",
            _memory(item),
            str(item.get("cwd") or item.get("note") or "?"),
        )
    print_table(rows)


def _memory(item: dict[str, Any]) -> str:
    """A process's resident memory and how many model vocabularies it holds: ``257M 3v``."""
    rss = item.get("rss_bytes")
    held = item.get("vocabularies")
    size = "?" if not isinstance(rss, int) else f"{rss / 2**20:.0f}M"
    return size if not isinstance(held, list) else f"{size} {len(held)}v"


def _alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - not ours: it exists
        return True
    return True


@resident_app.command()
def stop() -> None:
    """Stop every resident process of this user; says only what really stopped (by pid)."""
    from zero_llm.resident.client import resident_sockets, tell_resident
    from zero_llm.resident.server import STOP_GRACE_S

    pids = [item["pid"] for item in _statuses() if isinstance(item.get("pid"), int)]
    try:
        for path in resident_sockets():
            tell_resident(path, "stop")
    except OSError as exc:
        raise fail(str(exc)) from None
    deadline = time.monotonic() + STOP_GRACE_S + 5.0
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    running = [pid for pid in pids if _alive(pid)]
    stopped = len(pids) - len(running)
    say(f"stopped {stopped} resident process{'es' if stopped != 1 else ''}")
    if running:
        raise fail(
            f"still running after {STOP_GRACE_S + 5:.0f}s: pid {', '.join(map(str, running))}"
        )
