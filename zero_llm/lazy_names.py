"""Public names a package imports from their modules on first use, not at its own import.

In: the name asked for, the package, its table of names to modules, and its namespace.
Out: the value, imported once and then kept in the namespace (so ``__getattr__`` is not
asked again). Standard library only: ``import zero_llm`` stays light.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

__all__ = ["import_lazily"]


def import_lazily(
    name: str, package: str, exports: Mapping[str, str], namespace: dict[str, Any]
) -> Any:
    """A package ``__getattr__``'s body: import ``name`` from its module, keep it, return it."""
    module = exports.get(name)
    if module is None:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    namespace[name] = value
    return value
