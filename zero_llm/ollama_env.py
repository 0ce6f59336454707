"""Ollama's own server settings (``OLLAMA_*``) read as zero_llm settings.

In: the environment. Out: the settings they imply, as the nested dict a settings source
returns, and for ``config`` the variable each setting came from. Pure: nothing here reads
``os.environ`` itself, so it is tested with plain dicts.

An Ollama server started from the same environment runs with these values, so zero_llm
plans for them too: ``OLLAMA_KEEP_ALIVE`` becomes every model's ``keep_alive``,
``OLLAMA_CONTEXT_LENGTH`` the default window, and ``OLLAMA_NUM_PARALLEL``,
``OLLAMA_KV_CACHE_TYPE``, ``OLLAMA_MAX_LOADED_MODELS`` and ``OLLAMA_FLASH_ATTENTION`` the
memory plan's. They rank below every ``ZERO_LLM_*`` name and ``zero_llm.toml``: our own
setting, where given, wins. An empty value, and ``0`` where Ollama reads it as "choose
for me", is the same as not set.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from zero_llm.errors import ConfigurationError

__all__ = ["OLLAMA_SETTINGS", "ollama_settings", "ollama_variable_for"]

OLLAMA_SETTINGS: dict[str, tuple[str, ...]] = {
    "OLLAMA_KEEP_ALIVE": ("keep_alive",),
    "OLLAMA_CONTEXT_LENGTH": ("context_window",),
    "OLLAMA_NUM_PARALLEL": ("memory", "num_parallel"),
    "OLLAMA_KV_CACHE_TYPE": ("memory", "kv_cache_type"),
    "OLLAMA_MAX_LOADED_MODELS": ("memory", "max_loaded_models"),
    "OLLAMA_FLASH_ATTENTION": ("memory", "flash_attention"),
}
"""Each Ollama variable zero_llm honours -> the setting (dotted path parts) it feeds."""

_DURATION = re.compile(r"^-?(\d+(\.\d*)?(ns|us|µs|ms|s|m|h))+$")
_TRUE = frozenset({"1", "t", "true"})
_FALSE = frozenset({"0", "f", "false"})
_KV_TYPES = ("f16", "q8_0", "q4_0")


def _keep_alive(raw: str) -> str | int:
    """Ollama's rule: whole seconds, or a Go duration (``5m``, ``1h30m``); negative: forever."""
    try:
        return int(raw)
    except ValueError:
        pass
    if not _DURATION.match(raw):
        raise ConfigurationError(
            f"OLLAMA_KEEP_ALIVE={raw!r} is not a duration: give seconds (300, -1 for "
            "forever) or a duration like 5m, 1h30m"
        )
    return raw


def _count(name: str, raw: str) -> int | None:
    """A whole number >= 0; 0 means "Ollama chooses" (not set)."""
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise ConfigurationError(f"{name}={raw!r} is not a whole number >= 0")
    return value or None


def _kv_cache_type(raw: str) -> str:
    value = raw.lower()
    if value not in _KV_TYPES:
        raise ConfigurationError(
            f"OLLAMA_KV_CACHE_TYPE={raw!r} is not one of {', '.join(_KV_TYPES)}"
        )
    return value


def _flag(raw: str) -> bool:
    """Go's ``strconv.ParseBool`` (what Ollama uses)."""
    value = raw.lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigurationError(f"OLLAMA_FLASH_ATTENTION={raw!r} is not true/false (1/0)")


def _parse(name: str, raw: str) -> Any:
    if name == "OLLAMA_KEEP_ALIVE":
        return _keep_alive(raw)
    if name == "OLLAMA_KV_CACHE_TYPE":
        return _kv_cache_type(raw)
    if name == "OLLAMA_FLASH_ATTENTION":
        return _flag(raw)
    return _count(name, raw)


def ollama_settings(environ: Mapping[str, str]) -> dict[str, Any]:
    """The settings Ollama's variables in ``environ`` imply, as a nested dict."""
    values: dict[str, Any] = {}
    for name, path in OLLAMA_SETTINGS.items():
        raw = environ.get(name, "").strip()
        if not raw:
            continue
        value = _parse(name, raw)
        if value is None:
            continue
        node = values
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return values


def ollama_variable_for(path: tuple[str, ...], environ: Mapping[str, str]) -> str | None:
    """The Ollama variable in ``environ`` that sets the setting at ``path``, if any."""
    implied = ollama_settings(environ)
    for name, target in OLLAMA_SETTINGS.items():
        if target != path:
            continue
        node: Any = implied
        for part in target:
            if not isinstance(node, Mapping) or part not in node:
                return None
            node = node[part]
        return name
    return None
