"""The package's shape, read from its source: imports top-down, one runtime, no twins.

The import graph is read with ``ast`` from every module of ``zero_llm``, the emulator's
included (imports inside functions too, ``TYPE_CHECKING`` blocks left out), so a lazy import
cannot hide a circle.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import zero_llm
from zero_llm.history import HistoryStore, SyncHistoryStore
from zero_llm.manager import ModelManager

ROOT = Path(zero_llm.__file__).parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in ROOT.rglob("*.py")}


def _imports(path: Path) -> set[str]:
    """The zero_llm modules a module imports, at any depth (TYPE_CHECKING blocks left out)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                for alias in child.names:
                    full = f"{child.module}.{alias.name}"
                    found.add(full if full in MODULES else child.module)
            elif isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return {name for name in found if name in MODULES}


GRAPH = {name: _imports(path) - {name} for name, path in MODULES.items()}


def _reachable(start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for nxt in GRAPH[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_the_import_graph_has_no_circle() -> None:
    circles = sorted(name for name in GRAPH if name in _reachable(name))
    assert circles == []


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        ("zero_llm.runtime", "zero_llm.chat_model"),
        ("zero_llm.runtime", "zero_llm.runnable"),
        ("zero_llm.runtime", "zero_llm.manager"),
        ("zero_llm.chat_model", "zero_llm.runnable"),
        ("zero_llm.chat_model", "zero_llm.manager"),
        ("zero_llm.runnable", "zero_llm.manager"),
        ("zero_llm.core", "zero_llm.runtime"),
        ("zero_llm.calls.attempts", "zero_llm.core"),
    ],
)
def test_imports_read_top_down(lower: str, higher: str) -> None:
    """The manager above the runnable above the chat model above the runtime and the core."""
    assert higher not in _reachable(lower)


def test_the_sync_bridge_is_looked_up_in_one_place() -> None:
    """Only the runtime (and the database's default, for a store used alone) asks for it."""
    users = sorted(
        name
        for name, path in MODULES.items()
        if "shared_bridge()" in path.read_text(encoding="utf-8")
    )
    assert users == ["zero_llm.database", "zero_llm.runtime", "zero_llm.sync_bridge"]


def test_nothing_is_cached_per_event_loop() -> None:
    """Locks are loop-independent (``SingleFlight``); connections live on the bridge's loop."""
    holders = sorted(
        name
        for name, path in MODULES.items()
        if "WeakKeyDictionary[asyncio.AbstractEventLoop" in path.read_text(encoding="utf-8")
    )
    assert holders == []


def test_every_sync_method_of_the_manager_is_its_async_twin() -> None:
    twins = [name for name in dir(ModelManager) if name.endswith("_sync")]
    assert set(twins) >= {
        "load_model_sync",
        "unload_model_sync",
        "loaded_models_sync",
        "query_model_sync",
        "ask_sync",
        "count_tokens_sync",
    }
    for name in twins:
        if name == "history_sync":  # a property: the sync store, not a method
            continue
        twin = getattr(ModelManager, name)
        wrapped = twin.__wrapped__
        assert wrapped is getattr(ModelManager, name.removesuffix("_sync"))
        assert inspect.iscoroutinefunction(wrapped)
    assert ModelManager.close.__wrapped__ is ModelManager.aclose


def test_every_method_of_the_sync_history_store_is_a_twin() -> None:
    public = [n for n in vars(SyncHistoryStore) if not n.startswith("_")]
    assert len(public) >= 10
    for name in public:
        wrapped = getattr(SyncHistoryStore, name).__wrapped__
        assert inspect.unwrap(wrapped) is inspect.unwrap(getattr(HistoryStore, name))


def test_the_engine_is_split_by_job() -> None:
    """No module of the call path holds more than one job (and none is large)."""
    calls = {name: path for name, path in MODULES.items() if name.startswith("zero_llm.calls.")}
    assert set(calls) == {
        "zero_llm.calls.attempts",
        "zero_llm.calls.ollama_call",
        "zero_llm.calls.profiles",
        "zero_llm.calls.summary",
        "zero_llm.calls.truncation",
    }
    for path in calls.values():
        assert len(path.read_text(encoding="utf-8").splitlines()) < 350
