"""The model commands: ``models``, ``ps``, ``load``, ``pull`` and ``unload``.

In: model names or short names, the Ollama host. Out: the catalog and memory tables
(``--json`` for scripts); on a terminal, pull progress and a loading status on stderr.
"""

from __future__ import annotations

import shutil
import textwrap
from dataclasses import asdict, replace
from typing import TYPE_CHECKING, Annotated

import typer

from zero_llm.cli.common import (
    TERMINAL,
    HostOption,
    JsonOption,
    echo_json,
    print_table,
    run_with_manager,
    say,
    table,
)

if TYPE_CHECKING:
    from zero_llm.manager import LoadResult, ModelManager, ModelStatus
    from zero_llm.memory_plan import MemoryPlan
    from zero_llm.ollama.client import LoadedModel

__all__ = ["load", "load_note", "models", "ps", "pull", "rm", "unload"]

NameArgument = Annotated[
    str,
    typer.Argument(help="Model name or short name (llama, qwen, deepseek), or any Ollama model."),
]


async def load_note(manager: ModelManager, name: str) -> str:
    """``loading X (size), evicting Y``: what a load of ``name`` is about to do."""
    from zero_llm.memory_plan.sizes import format_bytes

    plan = await manager.memory_plan()
    planned = plan.get(name)
    size = f" ({format_bytes(planned.total_bytes)})" if planned is not None else ""
    loaded = [m.name for m in await manager.loaded_models()]
    if name in loaded:
        return f"loading {name}{size} (already in memory)"
    evicting = [other for other in loaded if not plan.can_coreside({name, other})]
    return f"loading {name}{size}" + (f", evicting {', '.join(evicting)}" if evicting else "")


def load(name: NameArgument, host: HostOption = None) -> None:
    """Pull the model if it is missing (with a progress bar), then load it into memory."""
    from zero_llm.cli.progress import pull_progress, showing_status

    async def body(manager: ModelManager) -> LoadResult:
        spec = await manager.resolve_model(name)
        pulled = False
        if manager.settings.auto_pull and spec.name not in await manager.backend.present_models():
            with pull_progress() as report:
                await manager.pull_model(spec.name, report)
            pulled = True
        note = await load_note(manager, spec.name)
        async with showing_status(TERMINAL, lambda elapsed, _: f"{note}... {elapsed:.0f}s"):
            result = await manager.load_model(spec.name)
        return replace(result, pulled=result.pulled or pulled)

    result = run_with_manager(body, host)
    say(
        f"{result.model} loaded in {result.load_seconds:.2f}s (num_ctx={result.num_ctx}"
        f"{', pulled' if result.pulled else ''})"
    )


def pull(name: NameArgument, host: HostOption = None) -> None:
    """Pull a model with a progress bar (on a terminal)."""
    from zero_llm.cli.progress import pull_progress

    with pull_progress() as report:
        model = run_with_manager(lambda m: m.pull_model(name, report), host)
    say(f"{model} pulled")


def unload(name: NameArgument, host: HostOption = None) -> None:
    """Evict a model from Ollama's memory now."""

    async def body(manager: ModelManager) -> str:
        spec = await manager.resolve_model(name)
        await manager.unload_model(spec.name)
        return spec.name

    say(f"{run_with_manager(body, host)} unloaded")


def rm(name: NameArgument, host: HostOption = None) -> None:
    """Remove a model from the Ollama server's disk (as `ollama rm` does)."""
    say(f"{run_with_manager(lambda m: m.delete_model(name), host)} removed")


def _gib(size: int | None) -> str:
    return "?" if size is None else f"{size / 2**30:.1f} GiB"


def ps(host: HostOption = None, as_json: JsonOption = False) -> None:
    """List the models in Ollama's memory, and why each is there (plan, keep-alive, CPU)."""

    async def body(manager: ModelManager) -> tuple[list[LoadedModel], MemoryPlan]:
        return await manager.loaded_models(), await manager.memory_plan()

    loaded, plan = run_with_manager(body, host)
    reasons = {m.name: _why_resident(m, plan) for m in loaded}
    if as_json:
        echo_json([{**asdict(m), "why": reasons[m.name]} for m in loaded])
        return
    rows = table("model", "num_ctx", "memory", "expires", "why", flexible=("why",))
    for m in loaded:
        expires = m.expires_at.strftime("%Y-%m-%d %H:%M:%S") if m.expires_at else "?"
        rows.add_row(m.name, str(m.context_length or "?"), _gib(m.size), expires, reasons[m.name])
    print_table(rows)


def _why_resident(model: LoadedModel, plan: MemoryPlan) -> str:
    """Why a loaded model is there and what shares memory with it, in a few words."""
    parts: list[str] = []
    if model.expires_at is not None and model.expires_at.year > 2100:
        parts.append("kept loaded (keep_alive -1)")
    else:
        parts.append("until its keep_alive runs out")
    planned = plan.get(model.name)
    if planned is not None:
        companions = plan.companions(model.name)
        parts.append(
            f"planned at num_ctx {planned.num_ctx}; "
            + (f"fits beside {', '.join(companions)}" if companions else "nothing fits beside it")
        )
    if model.size and model.size_vram is not None and model.size_vram < model.size:
        share = 100 * (model.size - model.size_vram) // model.size
        parts.append(f"WARNING: {share}% on the CPU (slow); set memory.gpu_memory")
    return "; ".join(parts)


async def _server_only(manager: ModelManager, statuses: list[ModelStatus]) -> list[ModelStatus]:
    """The server's models outside the catalog (no role; usable by name everywhere)."""
    from zero_llm.manager import ModelStatus

    listed = {s.model for s in statuses}
    loaded = {m.name for m in await manager.loaded_models()}
    extra = []
    for name in sorted(await manager.backend.present_models() - listed):
        facts = await manager.backend.show(name)
        extra.append(ModelStatus("", name, (), True, name in loaded, None, facts.context_length))
    return extra


def models(host: HostOption = None, as_json: JsonOption = False) -> None:
    """The catalog's roles and every other model the server has; the memory plan; and why."""

    async def body(manager: ModelManager) -> tuple[list[ModelStatus], MemoryPlan]:
        statuses = await manager.model_statuses()
        return statuses + await _server_only(manager, statuses), await manager.memory_plan()

    from zero_llm.memory_plan.view import describe_plan, plan_summary

    statuses, plan = run_with_manager(body, host)
    rows_of = {row.model: row for row in describe_plan(plan)}
    if as_json:
        echo_json(
            [
                {**asdict(s), "plan": rows_of[s.model].as_dict() if s.model in rows_of else None}
                for s in statuses
            ]
        )
        return
    rows = table("role", "model", "tasks", "state", "num_ctx", "max ctx", flexible=("tasks",))
    for s in statuses:
        state = "loaded" if s.loaded else ("present" if s.present else "missing")
        rows.add_row(
            s.role or "-",
            s.model,
            "-" if not s.role else ", ".join(s.tasks) or "(default)",
            state,
            str(s.num_ctx or "?"),
            str(s.context_length or "?"),
        )
    print_table(rows)
    if not rows_of:
        return
    memory = table("model", "weights", "KV", "total", "placement", "beside", flexible=("beside",))
    for row in rows_of.values():
        memory.add_row(
            row.model, row.weights, row.kv_cache, row.total, row.placement, row.co_resident
        )
    print_table(memory)
    width = shutil.get_terminal_size((80, 24)).columns
    notes = [f"{row.model}: num_ctx {row.num_ctx}: {row.why}" for row in rows_of.values()]
    for line in [*notes, *plan_summary(plan)]:
        wrapped = textwrap.fill(line, width=width, subsequent_indent="  ")
        say(wrapped, style="yellow" if line.startswith("WARNING") else None)
