"""The resident ``zero-llm ask``: real processes, a real Unix socket, the emulator over TCP.

Each test gets its own runtime directory (so its resident processes are its own) and
stops them at its end, checking that they leave no socket behind.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from zero_llm.resident.request import parse_ask_args
from zero_llm.testing import OllamaEmulator

CLI = "from zero_llm.cli import main; main()"


def wait_until(condition: Callable[[], object], timeout: float) -> None:
    """Poll ``condition`` until it holds or ``timeout`` seconds pass (the caller asserts)."""
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


class Shell:
    """Runs ``zero-llm`` as a user would: a fresh interpreter per command."""

    def __init__(self, env: dict[str, str], runtime: Path) -> None:
        self.env = env
        self.runtime = runtime

    def run(
        self,
        *args: str,
        stdin: str | None = None,
        cwd: Path | None = None,
        program: str = CLI,
        **env: str,
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", program, *args],
            env={**self.env, **env},
            cwd=cwd,
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )

    def sockets(self) -> list[Path]:
        return sorted(self.runtime.glob(f"zero-llm-{os.getuid()}/ask-*.sock"))

    def statuses(self) -> list[dict]:  # type: ignore[type-arg]
        done = self.run("resident", "status", "--json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)  # type: ignore[no-any-return]


@pytest.fixture
def shell(emulator: OllamaEmulator, tmp_path: Path) -> Iterator[Shell]:
    runtime = Path(tempfile.mkdtemp(prefix="zl-", dir="/tmp"))  # socket paths stay short
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZERO_LLM_")}
    env.update(
        PYTHONPATH=os.pathsep.join(sys.path),
        ZERO_LLM_HOME=str(tmp_path / "home"),
        OLLAMA_HOST=emulator.base_url,
        XDG_RUNTIME_DIR=str(runtime),
        PYTHONWARNINGS="always",
    )
    runner = Shell(env, runtime)
    try:
        yield runner
    finally:
        runner.run("resident", "stop")
        wait_until(lambda: not runner.sockets(), 15)
        leftover = runner.sockets()
        logs = "".join(p.read_text() for p in runtime.glob("*/*.log"))
        shutil.rmtree(runtime, ignore_errors=True)
        assert not leftover, "a resident process did not stop"
        assert "Traceback" not in logs and "ResourceWarning" not in logs, logs


def test_the_first_ask_starts_a_resident_process_that_answers_the_next(
    shell: Shell, emulator: OllamaEmulator
) -> None:
    first = shell.run("ask", "--task", "quick", "hello there")
    assert first.returncode == 0, first.stderr
    assert first.stdout == "[llama3.1:8b] You said: hello there\n"
    assert first.stderr.startswith("model=llama3.1:8b | route: task 'quick'")
    [started] = shell.statuses()
    second = shell.run("ask", "--task", "quick", "hello again", "--no-stream")
    assert second.stdout == "[llama3.1:8b] You said: hello again\n"
    [after] = shell.statuses()
    assert after["pid"] == started["pid"] and after["asks"] == started["asks"] + 1 == 2
    assert len(shell.sockets()) == 1


def test_resident_and_in_process_answers_print_the_same(shell: Shell) -> None:
    args = ("ask", "--model", "qwen", "--json", "def f(): pass")
    resident = shell.run(*args)
    in_process = shell.run(*args, ZERO_LLM_RESIDENT_ASK="false")
    assert resident.returncode == in_process.returncode == 0, resident.stderr
    ours, theirs = json.loads(resident.stdout), json.loads(in_process.stdout)
    assert ours["answer"] == theirs["answer"] == "[qwen2.5-coder:32b] You said: def f(): pass"
    assert ours.keys() == theirs.keys()
    assert ours["model"] == theirs["model"] and ours["route"] == theirs["route"]


def test_piped_text_and_system_reach_the_model_through_the_resident_process(
    shell: Shell, emulator: OllamaEmulator
) -> None:
    log = "Traceback (most recent call last):\n  ValueError: bad pixel"
    done = shell.run("ask", "--task", "code", "--system", "You are terse.", "explain", stdin=log)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "[qwen2.5-coder:32b] You said: explain\n"
    body = [r.body for r in emulator.requests_to("/api/chat") if r.body][-1]
    assert body["messages"][0] == {"role": "system", "content": "You are terse.\n\n" + log}
    only_piped = shell.run("ask", stdin="what is 2+2\n")
    assert "You said: what is 2+2" in only_piped.stdout


def test_mistakes_are_one_clear_line_and_exit_code_1(shell: Shell) -> None:
    unknown = shell.run("ask", "--model", "nope", "hi")
    assert unknown.returncode == 1
    assert unknown.stderr.startswith("error: UnknownModelError: model 'nope' is not in")
    empty = shell.run("ask", stdin="")
    assert empty.returncode == 1
    assert empty.stderr == (
        "error: no question: give it as an argument or pipe it on standard input\n"
    )
    typo = shell.run("ask", "--modle", "x", "hi")  # the full CLI's usage error
    assert typo.returncode == 2 and "No such option" in typo.stderr


def test_a_changed_setting_gets_its_own_resident_process(shell: Shell) -> None:
    assert shell.run("ask", "--task", "quick", "one").returncode == 0
    changed = shell.run("ask", "--task", "quick", "two", ZERO_LLM_CONTEXT_WINDOW="8192")
    assert changed.returncode == 0, changed.stderr
    assert len(shell.sockets()) == 2
    assert len({s["pid"] for s in shell.statuses()}) == 2


def test_an_idle_resident_process_leaves_and_its_usage_is_kept(shell: Shell) -> None:
    done = shell.run("ask", "--task", "quick", "hello", ZERO_LLM_RESIDENT_IDLE_S="1")
    assert done.returncode == 0, done.stderr
    wait_until(lambda: not shell.sockets(), 15)
    assert shell.sockets() == []
    usage = shell.run("usage", "--json")
    assert usage.returncode == 0, usage.stderr
    [row] = json.loads(usage.stdout)
    assert row["calls"] == 1


def test_no_resident_process_when_it_is_turned_off(shell: Shell) -> None:
    done = shell.run("ask", "--task", "quick", "hello", ZERO_LLM_RESIDENT_ASK="false")
    assert done.returncode == 0, done.stderr
    assert "You said: hello" in done.stdout
    assert shell.sockets() == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["hi"], {"text": "hi"}),
        (["--task", "code", "x"], {"task": "code", "text": "x"}),
        (
            ["--task=code", "--json", "--no-stream"],
            {"task": "code", "as_json": True, "no_stream": True, "text": None},
        ),
        (["-"], {"text": "-"}),
        (["--", "--not-an-option"], {"text": "--not-an-option"}),
        (["--help"], None),
        (["-v", "hi"], None),
        (["a", "b"], None),
        (["--task"], None),
        (["--bogus", "x"], None),
    ],
)
def test_the_thin_client_takes_only_what_it_understands(
    args: list[str], expected: dict[str, object] | None
) -> None:
    assert parse_ask_args(args) == expected


def test_ctrl_c_cancels_the_question_in_the_resident_process(
    shell: Shell, emulator: OllamaEmulator
) -> None:
    assert shell.run("ask", "--task", "quick", "warm up").returncode == 0
    emulator.faults.stall_before_first_chunk(20)
    asked = len(emulator.requests_to("/api/chat"))
    client = subprocess.Popen(
        [sys.executable, "-c", CLI, "ask", "--task", "quick", "a slow one"],
        env=shell.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_until(lambda: len(emulator.requests_to("/api/chat")) > asked, 20)
    [busy] = shell.statuses()
    assert busy["answering"] == 1
    client.send_signal(signal.SIGINT)
    _, err = client.communicate(timeout=10)
    assert client.returncode == 130 and "Traceback" not in err
    wait_until(lambda: not shell.statuses()[0]["answering"], 5)  # far less than the stall
    [after] = shell.statuses()
    assert after["answering"] == 0 and after["pid"] == busy["pid"]
    again = shell.run("ask", "--task", "quick", "still here?")
    assert again.returncode == 0 and "You said: still here?" in again.stdout


@pytest.mark.parametrize("resident", ["true", "false"])
def test_a_reader_that_has_left_ends_the_ask_quietly(shell: Shell, resident: str) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # like '| head' that has had enough: every write fails
    try:
        done = subprocess.run(
            [sys.executable, "-c", CLI, "ask", "--task", "quick", "one two three"],
            env={**shell.env, "ZERO_LLM_RESIDENT_ASK": resident},
            stdin=subprocess.DEVNULL,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=90,
            check=False,
        )
    finally:
        os.close(write_end)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "Error" not in done.stderr, done.stderr


def test_a_long_piped_log_goes_through_the_resident_process(
    shell: Shell, emulator: OllamaEmulator
) -> None:
    log = "ERROR worker 7: connection reset by peer\n" * 2500  # 100 KB, over asyncio's 64 KiB
    done = shell.run("ask", "--task", "code", "explain", stdin=log)
    assert done.returncode == 0, done.stderr
    assert "without the resident process" not in done.stderr
    assert done.stdout == "[qwen2.5-coder:32b] You said: explain\n"
    body = [r.body for r in emulator.requests_to("/api/chat") if r.body][-1]
    assert body["messages"][0]["content"] == log.strip()
    assert shell.statuses()[0]["asks"] == 1


def test_a_user_keeps_at_most_four_resident_processes(shell: Shell) -> None:
    windows = ["4096", "5120", "6144", "7168", "8192"]
    for window in windows:
        done = shell.run("ask", "--task", "quick", "hi", ZERO_LLM_CONTEXT_WINDOW=window)
        assert done.returncode == 0, done.stderr
    statuses = shell.statuses()
    assert len(statuses) == len(shell.sockets()) == 4
    first = shell.run("ask", "--task", "quick", "hi", ZERO_LLM_CONTEXT_WINDOW=windows[0])
    assert first.returncode == 0  # the longest idle (the first) had left: a new one answers
    assert {s["pid"] for s in shell.statuses()} - {s["pid"] for s in statuses}


def test_the_resident_process_runs_the_clients_package_whatever_the_folder_holds(
    shell: Shell, tmp_path: Path
) -> None:
    folder = tmp_path / "checkout"
    (folder / "zero_llm").mkdir(parents=True)
    (folder / "zero_llm" / "__init__.py").write_text("raise ImportError('the wrong zero_llm')")
    # As the console script runs: its own folder first on sys.path, not the working one.
    script = f"import sys; del sys.path[0]; {CLI}"
    done = shell.run("ask", "--task", "quick", "hello", cwd=folder, program=script)
    assert done.returncode == 0, done.stderr
    assert "without the resident process" not in done.stderr
    assert done.stdout == "[llama3.1:8b] You said: hello\n"


def test_host_option_is_answered_by_a_manager_of_that_host(
    shell: Shell, emulator: OllamaEmulator
) -> None:
    nowhere = {"OLLAMA_HOST": "http://127.0.0.1:9"}  # the settings' host: nobody listens
    done = shell.run("ask", "--task", "quick", "--host", emulator.base_url, "hi", **nowhere)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "[llama3.1:8b] You said: hi\n"
    [status] = shell.statuses()  # the one resident process, with a manager of that host
    assert status["hosts"] == [emulator.base_url]


def test_a_resident_answer_is_on_record_when_the_command_returns(shell: Shell) -> None:
    done = shell.run("ask", "--task", "quick", "--session", "s1", "remember 42")
    assert done.returncode == 0, done.stderr
    shown = shell.run("sessions", "show", "s1", ZERO_LLM_RESIDENT_ASK="false")
    assert shown.returncode == 0, shown.stderr
    assert "remember 42" in shown.stdout and "You said: remember 42" in shown.stdout
    usage = shell.run("usage", "--json")
    assert [row["calls"] for row in json.loads(usage.stdout)] == [1]
    assert shell.run("ask", "--task", "quick", "--session", "s1", "and now?").returncode == 0
    again = shell.run("sessions", "show", "s1", ZERO_LLM_RESIDENT_ASK="false")
    assert again.stdout.index("remember 42") < again.stdout.index("and now?")


def _exchange(path: Path, payload: bytes) -> list[dict]:  # type: ignore[type-arg]
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.connect(str(path))
        conn.sendall(payload)
        with conn.makefile("r", encoding="utf-8") as reader:
            return [json.loads(line) for line in reader]


def test_a_malformed_request_gets_a_clear_error_and_the_process_carries_on(
    shell: Shell,
) -> None:
    assert shell.run("ask", "--task", "quick", "start it").returncode == 0
    [path] = shell.sockets()
    [not_json] = _exchange(path, b"this is not json\n")
    assert not_json["exit"] == 1
    assert not_json["err"].startswith("error: the request could not be read")
    [bad_field] = _exchange(path, b'{"protocol": 2, "ask": {"question": "x", "bogus": 1}}\n')
    assert bad_field["exit"] == 1 and "bogus" in bad_field["err"]
    other = _exchange(path, b'{"protocol": 99, "ask": {"question": "x"}}\n')
    assert other == [{"err": "error: client and resident process differ", "exit": 1}]
    again = shell.run("ask", "--task", "quick", "still fine")
    assert again.returncode == 0 and "You said: still fine" in again.stdout


def test_a_missing_runtime_folder_is_a_clear_line_and_the_ask_still_answers(
    shell: Shell,
) -> None:
    missing = {"XDG_RUNTIME_DIR": str(shell.runtime / "no" / "such")}
    status = shell.run("resident", "status", **missing)
    assert status.returncode == 1
    assert status.stderr.startswith("error: cannot make ") and "Traceback" not in status.stderr
    done = shell.run("ask", "--task", "quick", "hi", **missing)
    assert done.returncode == 0 and done.stdout == "[llama3.1:8b] You said: hi\n"
    assert "note: answering without the resident process (cannot make " in done.stderr


def test_a_deleted_home_is_started_afresh_not_written_to_in_the_dark(
    shell: Shell, tmp_path: Path
) -> None:
    assert shell.run("ask", "--task", "quick", "--session", "s", "first").returncode == 0
    [before] = shell.statuses()
    shutil.rmtree(tmp_path / "home")  # as `rm -rf ~/.zero_llm` would
    done = shell.run("ask", "--task", "quick", "--session", "s", "second")
    assert done.returncode == 0, done.stderr
    shown = shell.run("sessions", "show", "s")
    assert "second" in shown.stdout and "first" not in shown.stdout
    usage = shell.run("usage", "--json")
    assert [row["calls"] for row in json.loads(usage.stdout)] == [1]
    [after] = shell.statuses()
    assert after["pid"] == before["pid"]  # the same process, with new managers


def test_two_terminals_are_answered_at_once_and_a_stop_lets_them_finish(
    shell: Shell, emulator: OllamaEmulator
) -> None:
    assert shell.run("ask", "--task", "quick", "warm up").returncode == 0
    emulator.faults.stall_before_first_chunk(1.5, times=2)

    def asking(text: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-c", CLI, "ask", "--task", "quick", text],
            env=shell.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    started = time.monotonic()
    first, second = asking("one"), asking("two")
    wait_until(lambda: shell.statuses()[0]["answering"] == 2, 20)
    # while both are answering; stop waits until the process has really left, so it runs
    # beside the asks
    stopper = subprocess.Popen(
        [sys.executable, "-c", CLI, "resident", "stop"],
        env=shell.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    outputs = [p.communicate(timeout=30) for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], outputs
    assert [out for out, _ in outputs] == [
        "[llama3.1:8b] You said: one\n",
        "[llama3.1:8b] You said: two\n",
    ]
    assert time.monotonic() - started < 2 * 1.5 + 2  # side by side, not one after the other
    stopped, _ = stopper.communicate(timeout=30)
    assert stopper.returncode == 0 and stopped == "stopped 1 resident process\n"


def test_a_question_the_resident_began_is_never_asked_twice(
    shell: Shell, emulator: OllamaEmulator
) -> None:
    assert shell.run("ask", "--task", "quick", "warm up").returncode == 0
    [resident] = shell.statuses()
    emulator.faults.stall_before_first_chunk(20)
    asked = len(emulator.requests_to("/api/chat"))
    client = subprocess.Popen(
        [sys.executable, "-c", CLI, "ask", "--no-stream", "--session", "s1", "killed mid-way"],
        env=shell.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_until(lambda: len(emulator.requests_to("/api/chat")) > asked, 20)
    os.kill(resident["pid"], signal.SIGKILL)  # the turn may or may not be stored by now
    out, err = client.communicate(timeout=30)
    assert client.returncode == 1, (out, err)
    assert "may already be stored" in err and "zero-llm sessions show s1" in err
    time.sleep(0.5)  # a resend would reach the emulator at once
    assert len(emulator.requests_to("/api/chat")) == asked + 1  # asked once, not twice
