"""``zero-llm hosts`` against three real emulators: one holding a model, one stopped."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from zero_llm.cli import app
from zero_llm.testing import OllamaEmulator


@pytest.fixture
def three(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[OllamaEmulator]]:
    """Three emulators in ``ZERO_LLM_HOSTS``: the second weighs 2 and serves two models."""
    emulators = [OllamaEmulator().start() for _ in range(3)]
    hosts = [
        {"url": emulators[0].base_url},
        {"url": emulators[1].base_url, "weight": 2, "models": ["llama3.1:8b", "qwen2.5-coder:32b"]},
        {"url": emulators[2].base_url},
    ]
    monkeypatch.setenv("ZERO_LLM_HOSTS", json.dumps(hosts))
    monkeypatch.setenv("ZERO_LLM_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ZERO_LLM_RETRY__INITIAL_BACKOFF", "0.01")
    monkeypatch.setenv("COLUMNS", "80")
    try:
        yield emulators
    finally:
        for emu in emulators:
            emu.stop()


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_hosts_json_names_resident_models_and_the_cooling_host(
    three: list[OllamaEmulator],
) -> None:
    a, b, c = three
    assert run("load", "qwen", "--host", a.base_url).exit_code == 0
    c.stop()
    result = run("hosts", "--json")
    assert result.exit_code == 0, result.stderr
    rows = {row["url"]: row for row in json.loads(result.stdout)}
    assert list(rows) == [a.base_url, b.base_url, c.base_url]
    assert rows[a.base_url]["healthy"] and rows[a.base_url]["resident"] == ["qwen2.5-coder:32b"]
    assert "deepseek-r1:32b" in rows[a.base_url]["present"]
    assert rows[a.base_url]["models"] == [] and rows[a.base_url]["weight"] == 1.0
    assert rows[b.base_url]["healthy"] and rows[b.base_url]["resident"] == []
    assert rows[b.base_url]["weight"] == 2.0
    assert rows[b.base_url]["models"] == ["llama3.1:8b", "qwen2.5-coder:32b"]
    stopped = rows[c.base_url]
    assert not stopped["healthy"] and stopped["failures"] == 1
    assert stopped["cooling_until"] is not None and stopped["cooling_for_s"] > 0
    assert "OllamaUnavailableError" in stopped["last_error"] and c.base_url in stopped["last_error"]
    assert all(row["in_flight"] == 0 for row in rows.values())


def test_hosts_table_fits_80_columns(three: list[OllamaEmulator]) -> None:
    _a, b, c = three
    assert run("load", "llama", "--host", b.base_url).exit_code == 0
    c.stop()
    result = run("hosts")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    table = [line for line in lines if not line.startswith("http://")]
    assert all(len(line) <= 80 for line in table)
    assert table[0].split() == ["host", "state", "resident", "disk", "busy", "weight", "serves"]
    row_a, row_b, row_c = (
        next(line for line in table if line.startswith(e.base_url.removeprefix("http://")))
        for e in three
    )
    assert row_a.split()[1:3] == ["healthy", "-"] and row_a.split()[-1] == "any"
    assert row_b.split()[1:3] == ["healthy", "llama3.1:8b"] and " 2 " in row_b
    assert row_c.split()[1:4] == ["cooling", "-", "?"]
    note = next(line for line in lines if line.startswith(c.base_url))
    assert "cools down until" in note and "(1 failure)" in note and "OllamaUnavailableError" in note


def test_a_bad_hosts_setting_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZERO_LLM_HOME", str(tmp_path))
    monkeypatch.setenv("ZERO_LLM_HOSTS", json.dumps([{"url": "127.0.0.1:1", "weight": 0}]))
    result = run("hosts")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: invalid zero_llm settings")
    assert "hosts.0.weight" in result.stderr and result.stdout == ""
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("not json", 'error parsing value for field "hosts"'),
        (json.dumps([{"url": 5}]), "hosts.0.url: Input should be a valid string (got 5)"),
    ],
)
def test_a_malformed_hosts_setting_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str, expected: str
) -> None:
    monkeypatch.setenv("ZERO_LLM_HOME", str(tmp_path))
    monkeypatch.setenv("ZERO_LLM_HOSTS", value)
    result = run("hosts")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("error: invalid zero_llm settings: ")
    assert expected in result.stderr and result.stderr.count("\n") == 1
