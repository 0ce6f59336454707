"""Naming a user's settings mistake: unknown names with a "did you mean", TOML syntax errors.

In: the settings class, the environment, a ``ValidationError``, a ``TOMLDecodeError``.
Out: one line per problem that says where it is and what was probably meant. Pure:
nothing here reads the environment or a file itself.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

__all__ = [
    "NOT_SETTINGS",
    "describe_errors",
    "did_you_mean",
    "toml_error_line",
    "unknown_environment_names",
]

ENV_PREFIX = "ZERO_LLM_"
NOT_SETTINGS = frozenset(
    {
        "ZERO_LLM_CONFIG_FILE",  # where the settings file is, not a setting
        "ZERO_LLM_NOTEBOOK_REAL",  # the notebooks: use a real Ollama
        "ZERO_LLM_REAL_OLLAMA",  # the test suite: run the real-Ollama tests
        "ZERO_LLM_REAL_MODEL",
        "ZERO_LLM_VENV",  # scripts/: the virtual environment to use
    }
)
"""``ZERO_LLM_*`` variables that are not settings but are read by name elsewhere."""

SECRET_VALUES = frozenset({"history_url", "history_key"})
"""Settings whose given value an error message never repeats."""

_TOML_WHERE = re.compile(r"^(?P<what>.*?) \(at line (?P<line>\d+), column (?P<column>\d+)\)$")


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest choice, or ``""`` when none is close."""
    found = difflib.get_close_matches(name.casefold(), list(choices), n=1, cutoff=0.6)
    return f"; did you mean {found[0]!r}?" if found else ""


def _model_fields(model: type[BaseModel]) -> list[str]:
    return list(model.model_fields)


def _submodel(model: type[BaseModel], name: str) -> type[BaseModel] | None:
    field = model.model_fields.get(name)
    annotation = getattr(field, "annotation", None)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def unknown_environment_names(
    settings_class: type[BaseModel],
    spec_class: type[BaseModel],
    environ: Mapping[str, str],
) -> list[str]:
    """One line per ``ZERO_LLM_*`` variable that names no setting, with the closest one."""
    problems = []
    top = _model_fields(settings_class)
    for variable in sorted(environ):
        upper = variable.upper()
        if not upper.startswith(ENV_PREFIX) or upper in NOT_SETTINGS:
            continue
        parts = upper.removeprefix(ENV_PREFIX).lower().split("__")
        hint = _unknown_part(settings_class, spec_class, parts, top)
        if hint is not None:
            problems.append(f"{variable} is not a zero_llm setting{hint}")
    return problems


def _unknown_part(
    settings_class: type[BaseModel],
    spec_class: type[BaseModel],
    parts: list[str],
    top: list[str],
) -> str | None:
    """None when ``parts`` names a setting, else the "did you mean" for the variable."""

    def suggest(known: list[str], good: list[str]) -> str:
        hint = did_you_mean(parts[len(good)], known)
        if not hint:
            return ""
        fixed = [*good, hint.split("'")[1]]
        return f"; did you mean {ENV_PREFIX}{'__'.join(fixed).upper()}?"

    if parts[0] not in top:
        return suggest(top, [])
    if len(parts) == 1:
        return None
    if parts[0] == "models":  # models__ROLE__FIELD: any role, a ModelSpec field
        if len(parts) == 2:
            return None
        fields = _model_fields(spec_class)
        if len(parts) == 3 and parts[2] in fields:
            return None
        return suggest(fields, parts[:2]) if len(parts) == 3 else ""
    group = _submodel(settings_class, parts[0])
    if group is None:
        return ""  # a plain setting has no parts below it
    fields = _model_fields(group)
    if len(parts) == 2 and parts[1] in fields:
        return None
    return suggest(fields, parts[:1]) if len(parts) == 2 else ""


def _known_at(
    settings_class: type[BaseModel], spec_class: type[BaseModel], loc: tuple
) -> list[str]:
    """The names allowed beside the unknown one at ``loc`` (its parent's fields)."""
    model: type[BaseModel] | None = settings_class
    parents = list(loc[:-1])
    if parents[:1] == ["models"] and len(parents) == 2:
        return _model_fields(spec_class)
    for part in parents:
        model = _submodel(model, str(part)) if model is not None else None
    return _model_fields(model) if model is not None else []


def describe_errors(
    exc: ValidationError,
    settings_class: type[BaseModel] | None = None,
    spec_class: type[BaseModel] | None = None,
) -> str:
    """Every problem of a validation error on one line: where, what, the value given.

    With the classes given, an unknown name gets the closest known one ("did you mean").
    """
    problems = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        where = ".".join(str(part) for part in loc) or "settings"
        given = error.get("input")
        shown = "" if isinstance(given, dict) else f" (got {given!r})"
        if loc and loc[-1] in SECRET_VALUES:  # a password in a URL, a key: never echoed
            shown = ""
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden" and settings_class and spec_class and loc:
            known = _known_at(settings_class, spec_class, loc)
            message = "not a setting" + did_you_mean(str(loc[-1]), known)
        problems.append(f"{where}: {message}{shown}")
    return "; ".join(problems)


def toml_error_line(path: Path, exc: tomllib.TOMLDecodeError) -> str:
    """A TOML syntax error as ``file:line:column: what`` (one line, no traceback)."""
    text = str(exc)
    match = _TOML_WHERE.match(text)
    if match is None:
        return f"{path}: invalid TOML: {text}"
    return f"{path}:{match['line']}:{match['column']}: invalid TOML: {match['what']}"


def new_role_typos(models: Mapping[str, Any], defaults: Iterable[str]) -> list[str]:
    """Roles that look like a misspelt default role: new, close to one, with no tasks."""
    known = list(defaults)
    problems = []
    for role, entry in models.items():
        if role in known or not isinstance(entry, Mapping) or entry.get("tasks"):
            continue
        hint = did_you_mean(role, known)
        if hint:
            problems.append(
                f"models.{role}: a new role with no tasks, close to a default role{hint} "
                f"(to add a role, give it tasks)"
            )
    return problems
