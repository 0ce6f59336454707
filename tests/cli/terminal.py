"""Run ``zero-llm`` with its stderr (and optionally stdin/stdout) on a pseudo-terminal."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import subprocess
import sys
import tempfile
import termios
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class TerminalRun:
    """What a command printed: stdout (a pipe, unless on the terminal) and the terminal."""

    code: int
    stdout: str
    terminal: str


def base_env(ollama_host: str, home: Path, **extra: str) -> dict[str, str]:
    """The environment of a command under test: no developer settings, a fresh home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZERO_LLM_", "OLLAMA_"))}
    env.update(
        PYTHONPATH=os.pathsep.join(sys.path),
        ZERO_LLM_HOME=str(home),
        OLLAMA_HOST=ollama_host,
        COLUMNS="100",
        TERM="xterm",
        XDG_RUNTIME_DIR=tempfile.mkdtemp(prefix="zl-", dir="/tmp"),
    )
    env.update(extra)
    return env


def _own_terminal() -> None:
    """In the child: a new session whose controlling terminal is the pty (stdin), so
    Ctrl-C typed there is a SIGINT to it, as in a real terminal."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_on_terminal(
    args: list[str],
    env: dict[str, str],
    *,
    stdout_on_terminal: bool = False,
    typed: list[tuple[str, bytes]] | None = None,
    timeout: float = 60.0,
) -> TerminalRun:
    """Run ``zero-llm args`` with stderr on a pty; ``typed``: (marker, bytes) sent to stdin.

    Each entry is typed once its marker has appeared one more time than the entries
    before it with the same marker waited for (e.g. one more ``you> `` prompt). With
    ``typed`` stdin is the terminal too (a REPL); else it is empty.
    """
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "zero_llm.cli", *args],
        stdin=slave if typed is not None else subprocess.DEVNULL,
        stdout=slave if stdout_on_terminal else subprocess.PIPE,
        stderr=slave,
        env=env,
        close_fds=True,
        preexec_fn=_own_terminal if typed is not None else None,
    )
    os.close(slave)
    seen = b""
    pending = list(typed or [])
    waited: dict[str, int] = {}
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if pending:
            marker, data = pending[0]
            if seen.decode(errors="replace").count(marker) > waited.get(marker, 0):
                waited[marker] = waited.get(marker, 0) + 1
                time.sleep(0.2)  # the program reaches its read
                os.write(master, data)
                pending.pop(0)
        ready, _, _ = select.select([master], [], [], 0.05)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # the other side closed: the process ended
                break
            if not data:
                break
            seen += data
        elif process.poll() is not None and not pending:
            break
    else:
        process.kill()
    out = process.stdout.read().decode() if process.stdout else ""
    code = process.wait(timeout=10)
    os.close(master)
    return TerminalRun(code, out, seen.decode(errors="replace"))


def run_piped(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``zero-llm args`` with stdout and stderr on pipes (a script's view)."""
    return subprocess.run(
        [sys.executable, "-m", "zero_llm.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )
