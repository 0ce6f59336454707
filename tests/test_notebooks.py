"""The notebooks run top to bottom against the emulator (and are committed without outputs)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


def test_there_are_the_five_notebooks() -> None:
    assert [p.name for p in NOTEBOOKS] == [
        "01_quickstart.ipynb",
        "02_memory_and_window.ipynb",
        "03_usage_report.ipynb",
        "04_agents.ipynb",
        "05_telemetry.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the kernel's temporary folders land here
    notebook = nbformat.read(path, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")
    NotebookClient(
        notebook,
        timeout=180,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    printed = "".join(
        output.get("text", "") for cell in notebook.cells for output in cell.get("outputs", [])
    )
    assert "emulated" in printed and "Traceback" not in printed
    assert not list(tmp_path.glob("zero-llm-nb-*")), "the notebook left its folder behind"
    sources = "".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    assert sources.count("ModelManager(") == sources.count("await mm.aclose()")  # all closed
    if path.stem.startswith("03"):  # its charts show inline
        kinds = {k for c in notebook.cells for o in c.get("outputs", []) for k in o.get("data", {})}
        assert "image/png" in kinds


def test_a_sync_call_that_would_deadlock_a_kernel_is_refused(tmp_path: Path) -> None:
    """In a kernel, ``async with`` puts the connections on the kernel's loop, which a sync
    call in the same cell blocks: the call is refused with advice, not left hanging."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(
            "from zero_llm import ModelManager, SyncCallInEventLoopError\n"
            "from zero_llm.testing import OllamaEmulator\n"
            "emu = OllamaEmulator().start()\n"
            f"mm = ModelManager(ollama_host=emu.base_url, home={str(tmp_path)!r})"
        ),
        nbformat.v4.new_code_cell(
            "async with mm:\n"
            "    print(await mm.query_model('llama', 'inside'))\n"
            "    try:\n"
            "        mm.query_model_sync('llama', 'blocked')\n"
            "    except SyncCallInEventLoopError as exc:\n"
            "        print('refused:', exc)\n"
            "print(mm.query_model_sync('llama', 'after'))  # outside the block: the bridge's loop"
        ),
        nbformat.v4.new_code_cell("await mm.aclose()\nemu.stop()"),
    ]
    NotebookClient(notebook, timeout=60, kernel_name="python3").execute()
    printed = "".join(
        output.get("text", "") for cell in notebook.cells for output in cell.get("outputs", [])
    )
    assert "You said: inside" in printed and "You said: after" in printed
    assert "refused: a sync zero_llm call was made inside `async with`" in printed
    assert "await the async method" in printed and "Traceback" not in printed
