"""The resident process says what it costs: its resident memory and the vocabularies it holds."""

from __future__ import annotations

import re
from pathlib import Path

from tests.cli.test_resident import Shell


def rss_from_outside(pid: int) -> int:
    """The process's RSS in bytes as the kernel reports it (``VmRSS``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def test_status_shows_the_memory_and_the_vocabularies_held(shell: Shell) -> None:
    assert shell.run("ask", "--task", "quick", "hi").returncode == 0
    [status] = shell.statuses()
    assert status["vocabularies"] == ["llama3.1:8b"]  # one model asked, one vocabulary
    seen = rss_from_outside(status["pid"])
    assert 20 * 2**20 < status["rss_bytes"] < 2**30
    assert abs(status["rss_bytes"] - seen) < 0.2 * seen  # the same measure, a moment apart
    assert shell.run("ask", "--task", "code", "write a python sort").returncode == 0
    [status] = shell.statuses()
    assert status["vocabularies"] == ["llama3.1:8b", "qwen2.5-coder:32b"]
    table = shell.run("resident", "status")
    assert table.returncode == 0 and re.search(r"\b\d+M 2v\b", table.stdout), table.stdout
