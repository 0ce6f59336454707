"""Where the settings file is: ``ZERO_LLM_CONFIG_FILE``, else ``zero_llm.toml`` here.

The one place that says it (the settings, the ``config`` command and the resident client
all ask). Standard library only: the thin ``ask`` client imports it.
"""

from __future__ import annotations

import os
from pathlib import Path

TYPE_CHECKING = False  # not typing's: the thin client does not import typing at all
if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["CONFIG_FILE_ENV", "DEFAULT_CONFIG_FILE", "config_file_path"]

CONFIG_FILE_ENV = "ZERO_LLM_CONFIG_FILE"
DEFAULT_CONFIG_FILE = "zero_llm.toml"


def config_file_path(environ: Mapping[str, str] | None = None) -> Path:
    """The settings file: ``ZERO_LLM_CONFIG_FILE`` if set, else ``zero_llm.toml`` (relative)."""
    env = os.environ if environ is None else environ
    return Path(env.get(CONFIG_FILE_ENV) or DEFAULT_CONFIG_FILE)
