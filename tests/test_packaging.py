"""The package as a user installs it: a wheel built from the checkout, in a fresh venv.

The wheel must carry ``zero_llm.chains`` (from the repository's ``chains/`` folder) and
no top-level ``chains``; every package of the tree must be in it; the editable install
must map ``zero_llm.chains`` too. Offline: ``--no-build-isolation`` with the environment's
setuptools, ``--no-index`` installs, and the fresh venv sees this environment's
dependencies through a ``.pth`` line (only a path: that directory's own .pth files, such
as an editable zero_llm, are not run).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SMOKE = """
import importlib.util, sys
import zero_llm
from zero_llm.chains import code, quick, summarizer, trading
assert importlib.util.find_spec("chains") is None, "a top-level chains package is installed"
assert trading.__name__ == "zero_llm.chains.trading"
print(zero_llm.__file__)
print(trading.__file__)
"""


def _copy_checkout(dest: Path) -> Path:
    ignore = shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache"
    )
    return Path(shutil.copytree(ROOT, dest, ignore=ignore))


def _pip(*args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _fresh_venv(where: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    python = where / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ours = [p for p in sys.path if p.endswith("site-packages")]  # .pth-added ones included
    (Path(purelib) / "shared-dependencies.pth").write_text("\n".join(ours) + "\n")
    return python


def _run(python: Path, code: str, cwd: Path) -> list[str]:
    done = subprocess.run(
        [str(python), "-c", code],
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "HOME": str(cwd)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_wheel_installs_zero_llm_chains_and_no_top_level_chains(tmp_path: Path) -> None:
    source = _copy_checkout(tmp_path / "src")
    _pip("wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(source))
    (wheel,) = tmp_path.glob("zero_llm-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "zero_llm/chains/trading.py" in names and "zero_llm/py.typed" in names
    assert not [n for n in names if n.startswith("chains/")]
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"zero_llm"}
    python = _fresh_venv(tmp_path / "venv")
    _pip("--python", str(python), "install", "-q", "--no-deps", "--no-index", str(wheel))
    package, trading = _run(python, SMOKE, cwd=tmp_path)
    site = str(tmp_path / "venv")
    assert package.startswith(site) and trading.startswith(site)
    script = tmp_path / "venv" / "bin" / "zero-llm"
    done = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "ask" in done.stdout and "doctor" in done.stdout


def test_editable_install_maps_zero_llm_chains(tmp_path: Path) -> None:
    source = _copy_checkout(tmp_path / "src")
    python = _fresh_venv(tmp_path / "venv")
    _pip(
        "--python", str(python), "install", "-q", "--no-deps", "--no-build-isolation",
        "--no-index", "-e", str(source),
    )  # fmt: skip
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    package, trading = _run(python, SMOKE, cwd=elsewhere)
    assert package == str(source / "zero_llm" / "__init__.py")
    assert trading == str(source / "chains" / "trading.py")
    # as pytest runs it, the checkout first on sys.path: zero_llm from there, and the
    # editable finder still maps zero_llm.chains (a top-level chains is the checkout's own)
    (found,) = _run(
        python,
        f"import sys; sys.path.insert(0, {str(source)!r})\n"
        "from zero_llm.chains import trading; print(trading.__file__)",
        cwd=source,
    )
    assert found == str(source / "chains" / "trading.py")


def test_every_package_of_the_tree_is_listed() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    in_tree = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "zero_llm").rglob("__init__.py")
        if "__pycache__" not in p.parts
    }
    missing = sorted(in_tree - listed - {"zero_llm.chains"})
    assert not missing, f"add these packages to [tool.setuptools] packages: {missing}"
    assert config["package-dir"] == {"zero_llm.chains": "chains"}


@pytest.mark.parametrize("module", ["aiohttp", "quicktok", "langchain"])
def test_extras_only_dependencies_are_not_imported_by_the_package(module: str) -> None:
    """aiohttp and quicktok serve the emulator, langchain the tests: the core never needs them."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = " ".join(project["dependencies"])
    assert module.replace("quicktok", "quicktok-v1") + ">" not in core
    code = (
        f"import sys; sys.modules[{module!r}] = None\n"
        "import zero_llm.manager, zero_llm.cli\n"
        "from zero_llm.cli import config, doctor, ask, models, history\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": ":".join(sys.path), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr


def test_project_urls_and_the_postgres_extra() -> None:
    import tomllib
    from pathlib import Path

    project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())[
        "project"
    ]
    assert {"Homepage", "Source", "Issues"} <= set(project["urls"])
    assert not any(dep.startswith("asyncpg") for dep in project["dependencies"])
    extras = project["optional-dependencies"]
    assert any(dep.startswith("asyncpg") for dep in extras["postgres"])
    assert any("postgres" in dep for dep in extras["test"])  # CI's PostgreSQL tests run
