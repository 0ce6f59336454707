"""The docs build's docstring check: it names every public object without a docstring."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent


def hooks() -> ModuleType:
    """scripts/docs_hooks.py, the hook mkdocs.yml runs before every build."""
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "scripts" / "docs_hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_check_names_each_public_object_without_a_docstring(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "_hidden").mkdir(parents=True)
    (package / "__init__.py").write_text(
        '"""A package."""\nfrom pkg.mod import Documented as Again\n\n'
        "def bare_function(x: int) -> int:\n    return x\n\n"
        "def _private() -> None:\n    pass\n"
    )
    (package / "mod.py").write_text(
        '"""A module."""\n\nclass Documented:\n    """Has one."""\n\n'
        "    def bare_method(self) -> None:\n        pass\n\n"
        "    @property\n    def bare_property(self) -> int:\n        return 1\n\n"
        "    def _private(self) -> None:\n        pass\n\n"
        "class Bare:\n    pass\n"
    )
    (package / "_hidden" / "__init__.py").write_text("def hidden():\n    pass\n")
    assert sorted(hooks().missing_docstrings(["pkg"], [tmp_path])) == [
        "pkg.bare_function",
        "pkg.mod.Bare",
        "pkg.mod.Documented.bare_method",
        "pkg.mod.Documented.bare_property",
    ]


def test_the_public_api_has_every_docstring() -> None:
    module = hooks()
    assert module.missing_docstrings(module.PACKAGES, [ROOT]) == []


def test_the_build_runs_the_check() -> None:
    config = (ROOT / "mkdocs.yml").read_text()
    assert "scripts/docs_hooks.py" in config and "strict: true" in config


def test_the_readme_links_lead_to_files_that_exist() -> None:
    import re

    readme = (ROOT / "README.md").read_text()
    targets = [t for t in re.findall(r"\]\(([^)\s]+)\)", readme) if "://" not in t]
    assert any(t.startswith("docs/") for t in targets)  # the reference is linked
    missing = [t for t in targets if not (ROOT / t.split("#")[0]).exists()]
    assert missing == []
