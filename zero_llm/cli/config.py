"""The ``config`` command: the effective settings and where each one came from.

In: the settings as built from all sources, the command line's arguments, the
environment and the TOML file. Out: one row per setting (nested ones flattened, e.g.
``window.exact_counts``) with its value and its source — ``argument``, ``env``, ``toml``,
``env OLLAMA_...`` (Ollama's own variable), ``keep_alive (...)`` (the one keep-alive spread
to every model) or ``default`` — secrets masked. ``setting_rows`` is pure, for tests and
other tools.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zero_llm.cli.common import HostOption, JsonOption, echo_json, fail, print_table, say, table
from zero_llm.config_file import config_file_path

if TYPE_CHECKING:
    from zero_llm.settings import ZeroLLMSettings

__all__ = ["SettingRow", "config", "config_file", "mask_url", "setting_rows"]

MASK = "********"


def mask_url(url: str) -> str:
    """The URL with its password (if any) replaced by stars (see ``settings.mask_url``)."""
    from zero_llm.settings import mask_url as masked

    return masked(url)


SECRET_FIELDS = frozenset({"history_key"})


@dataclass(frozen=True)
class SettingRow:
    """One effective setting: its dotted name, its value as shown, and its source."""

    name: str
    value: str
    source: str


def config_file(environ: Mapping[str, str]) -> Path:
    """The TOML file the settings read (``ZERO_LLM_CONFIG_FILE`` or ./zero_llm.toml)."""
    return config_file_path(environ)


def _show(name: str, value: Any) -> str:
    if value is None:
        return "-"
    if name in SECRET_FIELDS:
        return MASK
    if name == "history_url":
        return mask_url(str(value))
    return str(value)


KEEP_ALIVE_KINDS = frozenset(
    {("memory", "quick_keep_alive"), ("memory", "busy_keep_alive"), ("memory", "idle_keep_alive")}
)


def _source(
    path: tuple[str, ...],
    arguments: Mapping[str, Any],
    env: set[str],
    toml: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
) -> str:
    """Where the setting at ``path`` came from (the strongest source that sets it)."""
    found = _own_source(path, arguments, env, toml)
    if found != "default" or environ is None:
        return found
    from zero_llm.ollama_env import ollama_variable_for

    variable = ollama_variable_for(path, environ)
    if variable is not None:
        return f"env {variable}"
    if path in KEEP_ALIVE_KINDS:
        spread = _source(("keep_alive",), arguments, env, toml, environ)
        if spread != "default":
            return f"keep_alive ({spread})"
    return "default"


def _own_source(
    path: tuple[str, ...],
    arguments: Mapping[str, Any],
    env: set[str],
    toml: Mapping[str, Any],
) -> str:
    top = path[0]
    if top in arguments:
        return "argument"
    prefix = "ZERO_LLM_" + top.upper()
    names = {prefix}
    if len(path) > 1:
        names.add(prefix + "__" + "__".join(p.upper() for p in path[1:]))
    if top == "ollama_host":
        names.add("OLLAMA_HOST")
    nested_prefix = prefix + "__" + "__".join(p.upper() for p in path[1:]) + "__"
    if names & env or (len(path) > 1 and any(k.startswith(nested_prefix) for k in env)):
        return "env"
    node: Any = toml
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return "default"
        node = node[part]
    return "toml"


def setting_rows(
    settings: ZeroLLMSettings,
    arguments: Mapping[str, Any],
    environ: Mapping[str, str],
    toml: Mapping[str, Any],
) -> list[SettingRow]:
    """Every effective setting with its value (secrets masked) and where it came from."""
    from pydantic import BaseModel

    env = {k.upper() for k in environ}
    rows = []
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, BaseModel):
            for sub in type(value).model_fields:
                path = (name, sub)
                rows.append(
                    SettingRow(
                        f"{name}.{sub}",
                        _show(sub, getattr(value, sub)),
                        _source(path, arguments, env, toml, environ),
                    )
                )
        elif name == "models":
            for role, spec in value.items():
                tasks = ", ".join(spec.tasks) or "(default)"
                rows.append(
                    SettingRow(
                        f"models.{role}",
                        f"{spec.name} ({tasks})",
                        _source((name, role), arguments, env, toml),
                    )
                )
        else:
            source = _source((name,), arguments, env, toml, environ)
            rows.append(SettingRow(name, _show(name, value), source))
    return rows


def config(host: HostOption = None, as_json: JsonOption = False) -> None:
    """Print the effective settings and where each came from (secrets masked)."""
    from zero_llm.errors import ConfigurationError
    from zero_llm.settings import load_settings

    arguments = {"ollama_host": host} if host else {}
    try:
        settings = load_settings(**arguments)
    except ConfigurationError as exc:
        raise fail(str(exc)) from None
    path = config_file(os.environ)
    toml: dict[str, Any] = {}
    if path.is_file():
        with path.open("rb") as handle:
            toml = tomllib.load(handle)
    rows = setting_rows(settings, arguments, os.environ, toml)
    if as_json:
        echo_json({"config_file": str(path) if path.is_file() else None, "settings": rows})
        return
    say(f"config file: {path} ({'read' if path.is_file() else 'not found'})", err=True)
    shown = table("setting", "value", "source", flexible=("value",))
    for row in rows:
        shown.add_row(row.name, row.value, row.source)
    print_table(shown)
