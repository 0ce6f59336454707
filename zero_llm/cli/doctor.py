"""The ``doctor`` command: is this machine ready to answer, and if not, what to fix.

In: the settings. Out: one line per check — settings, history key, Ollama host, the
catalog's models, the planned context windows, the history database — each ``ok``,
``warn`` or ``FAIL`` with what to do about it; exit code 1 when any check failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from zero_llm.cli.common import HostOption, JsonOption, echo_json, say
from zero_llm.cli.config import mask_url

if TYPE_CHECKING:
    from zero_llm.manager import ModelManager
    from zero_llm.settings import ZeroLLMSettings

__all__ = ["Check", "doctor"]


@dataclass(frozen=True)
class Check:
    """One check's outcome: ``ok``, ``warn`` or ``fail``, what was found, and the fix."""

    name: str
    status: str
    detail: str
    fix: str = ""


def _key_check(settings: ZeroLLMSettings) -> Check:
    from zero_llm.errors import ZeroLLMError

    if settings.history_key is None and settings.history_key_file is None:
        return Check("key", "ok", "no history key set: message text is stored as plain text")
    try:
        settings.history_encryption_key()
    except ZeroLLMError as exc:
        return Check(
            "key",
            "fail",
            f"the history key does not load: {exc}",
            "set ZERO_LLM_HISTORY_KEY or history_key_file to a key from "
            "zero_llm.history.generate_key()",
        )
    return Check("key", "ok", "the history key loads")


async def _checks(manager: ModelManager) -> list[Check]:
    from zero_llm.errors import ZeroLLMError

    settings = manager.settings
    url = settings.ollama_base_url
    checks = [Check("settings", "ok", "settings load"), _key_check(settings)]
    try:
        version = await manager.backend.version()
    except ZeroLLMError as exc:
        checks.append(
            Check(
                "host",
                "fail",
                f"no Ollama at {url}: {type(exc).__name__}",
                "start Ollama (`ollama serve`), or point OLLAMA_HOST or --host at it",
            )
        )
    else:
        checks.append(Check("host", "ok", f"Ollama {version or '?'} at {url}"))
        checks.extend(await _model_checks(manager))
        checks.append(await _memory_check(manager))
    try:
        await manager.history.sessions(limit=1)
        await manager.history.check_writable()  # the key is the database's own
    except ZeroLLMError as exc:
        checks.append(
            Check(
                "history",
                "fail",
                f"the history database {mask_url(settings.history_database_url)} does not "
                f"open: {exc}",
                "check history_url, that the home directory is writable, and that the "
                "history key is the one the database was encrypted with",
            )
        )
    else:
        checks.append(Check("history", "ok", f"{mask_url(settings.history_database_url)} opens"))
    return checks


async def _model_checks(manager: ModelManager) -> list[Check]:
    statuses = await manager.model_statuses()
    checks = []
    for s in statuses:
        if s.present:
            checks.append(
                Check(
                    f"model {s.role}",
                    "ok",
                    f"{s.model} is present{' and loaded' if s.loaded else ''}; window "
                    f"num_ctx={s.num_ctx} of its {s.context_length or '?'}",
                )
            )
        elif manager.settings.auto_pull:
            checks.append(
                Check(
                    f"model {s.role}",
                    "warn",
                    f"{s.model} is missing; it will be pulled on first use",
                    f"pull it now: zero-llm pull {s.model}",
                )
            )
        else:
            checks.append(
                Check(
                    f"model {s.role}",
                    "fail",
                    f"{s.model} is missing and auto_pull is off",
                    f"zero-llm pull {s.model}",
                )
            )
    return checks


async def _memory_check(manager: ModelManager) -> Check:
    """The memory plan: the GPU budget, models that would run partly on the CPU."""
    budget = await manager.gpu_budget()
    plan = await manager.memory_plan()
    offloaded = [
        m.name for m in await manager.loaded_models() if m.size and (m.size_vram or 0) < m.size
    ]
    fix_budget = "set memory.gpu_memory (e.g. ZERO_LLM_MEMORY__GPU_MEMORY=24GiB)"
    if offloaded:
        return Check(
            "memory",
            "fail",
            f"{', '.join(offloaded)} run partly on the CPU (many times slower)",
            fix_budget + " so zero_llm plans windows that fit",
        )
    if plan.warnings:
        return Check("memory", "warn", "; ".join(plan.warnings), "a larger GPU, or smaller models")
    if budget.bytes is None:
        return Check(
            "memory",
            "warn",
            "GPU memory unknown: windows as configured, nothing planned or scheduled",
            fix_budget,
        )
    windows = ", ".join(f"{m.name} {m.num_ctx}" for m in plan.models)
    return Check("memory", "ok", f"{budget.describe()}; planned num_ctx: {windows}")


def doctor(host: HostOption = None, as_json: JsonOption = False) -> None:
    """Check the host, the models, their windows, the memory plan, the database and the key."""
    import typer

    from zero_llm.cli.common import run_with_manager
    from zero_llm.errors import ZeroLLMError
    from zero_llm.manager import ModelManager

    try:
        manager = ModelManager(ollama_host=host) if host else ModelManager()
    except ZeroLLMError as exc:
        checks = [
            Check("settings", "fail", str(exc), "fix the setting named above (see zero-llm config)")
        ]
    else:
        checks = run_with_manager(_checks, manager=manager)
    if as_json:
        echo_json(checks)
    else:
        for check in checks:
            label = {"ok": "ok  ", "warn": "warn", "fail": "FAIL"}[check.status]
            colour = {"ok": "green", "warn": "yellow", "fail": "red"}[check.status]
            say(f"{label}  {check.name:<15} {check.detail}", style=colour)
            if check.fix:
                say(f"      {'':<15} fix: {check.fix}")
    if any(c.status == "fail" for c in checks):
        raise typer.Exit(1)
