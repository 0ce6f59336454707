"""The ``hosts`` command: each configured Ollama host, healthy or cooling, and what it holds.

In: the settings' ``hosts`` (or the one ``OLLAMA_HOST``). Out: one table row per host
(its URL, healthy or cooling, resident models, how many models are on its disk, calls in
flight, weight, the models it may serve), then one line per cooling host: until when, after
how many failures, its last error; ``--json`` prints the same as one JSON document.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from zero_llm.cli.common import JsonOption, echo_json, print_table, run_with_manager, say, table

if TYPE_CHECKING:
    from zero_llm.manager import ModelManager
    from zero_llm.ollama.hosts import HostView

__all__ = ["hosts"]


def _until(view: HostView, now: datetime) -> datetime | None:
    """The wall-clock end of a host's cooldown (None when it is healthy)."""
    return None if view.healthy else now + timedelta(seconds=view.cooling_for_s)


def _cooling_line(view: HostView, now: datetime) -> str:
    """Why and until when a cooling host is left aside."""
    until = _until(view, now)
    failures = f"{view.failures} failure{'s' if view.failures != 1 else ''}"
    line = f"{view.url} cools down until {until:%H:%M:%S} ({failures})"
    return f"{line}: {view.last_error}" if view.last_error else line


def _as_json(view: HostView, now: datetime) -> dict[str, Any]:
    until = _until(view, now)
    return {
        "url": view.url,
        "healthy": view.healthy,
        "cooling_until": None if until is None else until.isoformat(timespec="seconds"),
        "cooling_for_s": round(view.cooling_for_s, 3),
        "failures": view.failures,
        "last_error": view.last_error,
        "resident": list(view.resident),
        "present": list(view.present),
        "in_flight": view.in_flight,
        "weight": view.weight,
        "models": list(view.models),
    }


def hosts(as_json: JsonOption = False) -> None:
    """Show each Ollama host of the pool: healthy or cooling, resident models, load."""

    async def body(manager: ModelManager) -> list[HostView]:
        return await manager.hosts.views()

    views = run_with_manager(body)
    now = datetime.now().astimezone()
    if as_json:
        echo_json([_as_json(v, now) for v in views])
        return
    rows = table(
        "host",
        "state",
        "resident",
        "disk",
        "busy",
        "weight",
        "serves",
        flexible=("resident", "serves"),
    )
    for v in views:
        rows.add_row(
            v.url.removeprefix("http://"),
            "healthy" if v.healthy else "cooling",
            ", ".join(v.resident) or "-",
            str(len(v.present)) if v.present or v.healthy else "?",
            str(v.in_flight),
            f"{v.weight:g}",
            ", ".join(v.models) or "any",
        )
    print_table(rows)
    for v in views:
        if not v.healthy:
            say(_cooling_line(v, now), style="yellow")
