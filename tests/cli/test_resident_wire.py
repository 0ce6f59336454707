"""The resident's wire: requests checked before they are answered, managers bounded, keys."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.cli.test_resident import Shell, _exchange, shell  # noqa: F401  (its fixture)
from tests.conftest import fast_settings
from zero_llm.resident.client import resident_key
from zero_llm.resident.request import AskRequest
from zero_llm.resident.server import MAX_MANAGERS, ResidentServer
from zero_llm.testing import OllamaEmulator


def test_requests_of_the_wrong_shape_get_a_clear_error(shell: Shell) -> None:  # noqa: F811
    assert shell.run("ask", "--task", "quick", "start it").returncode == 0
    [path] = shell.sockets()
    for payload, named in [
        (b'{"protocol": 2, "ask": {"question": "x", "stream": "no"}}\n', "stream"),
        (b'{"protocol": 2, "ask": {"question": 5}}\n', "question"),
        (b'{"protocol": 2, "ask": {"stream": true}}\n', "no question"),
        (b'{"protocol": 2, "ask": "x"}\n', "JSON object"),
        (b"[1]\n", "JSON object"),
        (b'{"protocol": 2}\n', "no command"),
    ]:
        events = _exchange(path, payload)
        assert events and events[-1]["exit"] == 1, (payload, events)
        assert named in events[-1]["err"], (payload, events)
    usage = shell.run("usage", "--json", ZERO_LLM_RESIDENT_ASK="false")
    assert usage.returncode == 0, usage.stderr  # only the first, real ask is on record
    assert "stream" not in usage.stderr


class Collected:
    """The events of one answer, as a client would see them."""

    def __init__(self) -> None:
        self.text: list[str] = []
        self.lines: list[str] = []

    def out(self, text: str) -> None:
        self.text.append(text)

    def err(self, line: str, style: str | None = None) -> None:
        self.lines.append(line)

    def status(self, text: str | None) -> None:
        pass

    def think(self, text: str) -> None:
        self.lines.append(text)


async def test_many_hosts_keep_a_bounded_number_of_managers(
    emulator: OllamaEmulator, tmp_path: Path
) -> None:
    server = ResidentServer(tmp_path / "ask.sock", fast_settings(emulator.base_url, home=tmp_path))
    for index in range(3 * MAX_MANAGERS):
        output = Collected()
        request = AskRequest(f"hello {index}", task="quick", host=f"{emulator.base_url}/?{index}")
        assert await server.answer(request, output) == 0, output.lines
        assert f"You said: hello {index}" in "".join(output.text)
        assert len(server.managers) <= MAX_MANAGERS
    for manager in list(server.managers.values()):
        await manager.aclose()


def test_a_config_edit_of_the_same_size_and_time_starts_a_new_resident(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "zero_llm.toml"
    config.write_text('default_role = "quick"\n')
    stamp = config.stat()
    before = resident_key()
    config.write_text('default_role = "codes"\n')  # same size
    os.utime(config, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))  # same time
    assert config.stat().st_size == stamp.st_size
    assert resident_key() != before
