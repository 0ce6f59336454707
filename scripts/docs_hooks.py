"""MkDocs hook: the documentation build fails when a public function or class lacks a docstring.

In: the packages of the public API, read by griffe (mkdocstrings' own loader) without
importing them. Out: nothing when every public module, class, function, method and
property has a docstring; otherwise the build stops with a ``PluginError`` naming each
object without one. Public: a name without a leading underscore, in a module whose path has
none either; names a module imports from elsewhere are checked where they are defined.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import griffe
from mkdocs.exceptions import PluginError

PACKAGES = ("zero_llm", "chains")
"""The packages of the public API (``chains/`` is installed as ``zero_llm.chains``)."""
ROOT = Path(__file__).resolve().parent.parent


def _undocumented(obj: Any) -> Iterator[str]:
    """The paths of ``obj`` and its public members that have no docstring."""
    for name, member in obj.members.items():
        if name.startswith("_") or member.is_alias:
            continue
        if member.is_module:
            yield from _undocumented(member)
        elif member.is_class or member.is_function or "property" in member.labels:
            if member.docstring is None or not member.docstring.value.strip():
                yield member.path
            if member.is_class:
                yield from _undocumented(member)


def missing_docstrings(packages: Sequence[str], search_paths: Sequence[Path]) -> list[str]:
    """Every public object of ``packages`` (found on ``search_paths``) without a docstring."""
    missing: list[str] = []
    for package in packages:
        root = griffe.load(package, search_paths=[str(p) for p in search_paths])
        if root.docstring is None:
            missing.append(root.path)
        missing.extend(_undocumented(root))
    return missing


def on_pre_build(config: Any) -> None:
    """Stop the build when the public API has an object without a docstring."""
    missing = missing_docstrings(PACKAGES, [ROOT])
    if missing:
        raise PluginError(
            f"{len(missing)} public objects have no docstring: " + ", ".join(sorted(missing))
        )
