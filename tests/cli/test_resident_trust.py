"""A resident process you can trust: one per setting group, stop verified, stale files
swept, key changes noticed, floods capped, any protocol can list and stop it."""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from pathlib import Path

from cryptography.fernet import Fernet

from tests.cli.terminal import run_on_terminal
from tests.cli.test_resident import Shell, wait_until
from zero_llm.resident.client import PROTOCOL, STALE_AFTER_S, sweep_stale_files
from zero_llm.resident.server import OncePerInterval
from zero_llm.testing import OllamaEmulator


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_one_resident_for_every_directory_of_one_setting_and_status_shows_its_host(
    shell: Shell, emulator: OllamaEmulator, tmp_path: Path
) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        done = shell.run("ask", "--task", "quick", "hi", cwd=tmp_path / name)
        assert done.returncode == 0, done.stderr
    [status] = shell.statuses()
    assert status["ollama"] == [emulator.base_url] and status["asks"] == 2
    shown = shell.run("resident", "status")
    assert emulator.base_url.removeprefix("http://") in shown.stdout.replace("\n", "")
    (tmp_path / "a" / "zero_llm.toml").write_text("context_window = 8192\n")
    assert shell.run("ask", "--task", "quick", "hi", cwd=tmp_path / "a").returncode == 0
    assert len(shell.statuses()) == 2  # a folder with its own settings: its own process


def test_stop_says_what_really_stopped(shell: Shell) -> None:
    assert shell.run("ask", "--task", "quick", "hi").returncode == 0
    [status] = shell.statuses()
    stopped = shell.run("resident", "stop")
    assert stopped.returncode == 0 and stopped.stdout == "stopped 1 resident process\n"
    assert not _alive(status["pid"])


def test_a_changed_key_file_gets_a_new_resident(shell: Shell, tmp_path: Path) -> None:
    key = tmp_path / "history.key"
    key.write_text(Fernet.generate_key().decode())
    key.chmod(0o600)  # key files open to others are refused
    env = {"ZERO_LLM_HISTORY_KEY_FILE": str(key)}
    assert shell.run("ask", "--task", "quick", "one", **env).returncode == 0
    key.write_text(Fernet.generate_key().decode())
    key.unlink()  # a new file (new inode) with a new key, as an editor or a rotation makes
    key.write_text(Fernet.generate_key().decode())
    key.chmod(0o600)
    # A new key for a history the old key encrypted: the new resident refuses to write.
    changed = shell.run("ask", "--task", "quick", "two", **env)
    assert changed.returncode == 1 and "not the one" in changed.stderr
    assert len({s["pid"] for s in shell.statuses()}) == 2


def test_stale_lock_and_log_files_are_swept(tmp_path: Path) -> None:
    old, fresh, live = (tmp_path / f"ask-{n}" for n in ("old", "fresh", "live"))
    for path in (old, fresh, live):
        path.with_suffix(".lock").write_text("")
        path.with_suffix(".log").write_text("")
    live.with_suffix(".sock").write_text("")
    long_ago = time.time() - STALE_AFTER_S - 10
    for path in (old, live):
        for suffix in (".lock", ".log"):
            os.utime(path.with_suffix(suffix), (long_ago, long_ago))
    removed = sweep_stale_files(tmp_path)
    assert sorted(p.name for p in removed) == ["ask-old.lock", "ask-old.log"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "ask-fresh.lock",
        "ask-fresh.log",
        "ask-live.lock",
        "ask-live.log",
        "ask-live.sock",
    ]


def test_a_flood_of_connections_is_capped_and_logged_once(shell: Shell) -> None:
    assert shell.run("ask", "--task", "quick", "hi").returncode == 0
    [path] = shell.sockets()
    held = []
    for _ in range(150):
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect(str(path))
        held.append(conn)
    log_file = path.with_suffix(".log")
    wait_until(lambda: "refusing more" in log_file.read_text(), 20)
    for conn in held:
        conn.close()
    wait_until(lambda: shell.run("ask", "--task", "quick", "again").returncode == 0, 20)
    log = path.with_suffix(".log").read_text()
    assert log.count("refusing more") == 1, log


def test_any_protocol_can_list_and_stop_but_not_ask(shell: Shell) -> None:
    assert shell.run("ask", "--task", "quick", "hi").returncode == 0
    [path] = shell.sockets()

    def send(message: dict) -> list[dict]:  # type: ignore[type-arg]
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.connect(str(path))
            conn.sendall(json.dumps(message).encode() + b"\n")
            return [json.loads(line) for line in conn.makefile("r")]

    [status] = send({"protocol": 999, "status": True})
    assert status["status"]["protocol"] == PROTOCOL and status["exit"] == 0
    [refused] = send({"protocol": 999, "ask": {"question": "hi"}})
    assert "differ" in refused["err"] and refused["exit"] == 1
    send({"protocol": 999, "stop": True})
    wait_until(lambda: not _alive(status["status"]["pid"]), 20)
    assert not _alive(status["status"]["pid"])


def test_the_start_is_announced_once_on_a_terminal(shell: Shell) -> None:
    first = run_on_terminal(["ask", "--task", "quick", "hi"], shell.env)
    second = run_on_terminal(["ask", "--task", "quick", "hi"], shell.env)
    assert first.code == second.code == 0
    assert first.terminal.count("started a resident process (pid") == 1
    assert "started a resident process" not in second.terminal


def test_once_per_interval_counts_what_it_held_back() -> None:
    gate = OncePerInterval(interval=60.0, match="out of system resource")
    records = [
        logging.LogRecord("asyncio", logging.ERROR, "", 0, msg, None, None)
        for msg in ["socket.accept() out of system resource"] * 5 + ["something else"]
    ]
    passed = [r for r in records if gate.filter(r)]
    assert [r.getMessage() for r in passed] == [
        "socket.accept() out of system resource",
        "something else",
    ]
    assert gate.suppressed == 4
