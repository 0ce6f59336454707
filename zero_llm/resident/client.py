"""The thin ``zero-llm ask``: find (or start) the resident process and relay its answer.

In: ``ask``'s command line and standard input. Out: the answer on stdout and the status
lines on stderr, exactly as the in-process command prints them, and the exit code.
Standard library only, and only what it needs: this runs before anything heavy is
imported. Anything it does not recognise (``--help``, a typo, ``-v`` before ``ask``) goes
to the full CLI; if no resident process can be had, the question is answered in process.

One resident process serves one *setting group*: its key hashes the interpreter, the
package's files, the ``ZERO_LLM_*``/``OLLAMA_*``/``HOME``/``PYTHONPATH`` environment, the
config file's path and content, the history key file's stamp, and the working directory
only when it changes the settings; so a changed setting (or key file) starts a new one,
and every directory of one setting shares one. Its start is announced once on a terminal.
Its socket lives in a directory only this user can enter (``$XDG_RUNTIME_DIR/zero-llm-UID``
or ``/tmp/zero-llm-UID``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import stat
import sys
import time
from pathlib import Path

from zero_llm.config_file import config_file_path
from zero_llm.resident.request import AskRequest, NoQuestionError, build_request, parse_ask_args

TYPE_CHECKING = False  # not typing's: the thin client does not import typing at all
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import IO, Any

__all__ = [
    "PROTOCOL",
    "RESIDENT_ENV",
    "ResidentUnavailableError",
    "call_resident",
    "resident_enabled",
    "resident_key",
    "resident_replies",
    "resident_sockets",
    "run_ask",
    "runtime_dir",
    "socket_path",
    "tell_resident",
]

PROTOCOL = 2
"""Version of the messages between client and resident process (part of the key).

2: an ask may carry ``think``; the process then sends ``{"think": text}`` events."""
RESIDENT_ENV = "ZERO_LLM_RESIDENT_ASK"
MAX_RESIDENT = 4
"""Most resident processes a user keeps: starting one more stops the longest idle."""
START_TIMEOUT_S = 30.0
"""How long a client waits for a resident process it started to listen."""
_KEY_ENV = ("OLLAMA_HOST", "HOME", "PYTHONPATH")
_CONFIG_LIMIT = 1 << 20
"""The most bytes of the config file read for the key (a settings file is far smaller)."""
_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "off"})
_STYLES = {"dim": "\x1b[2m", "red": "\x1b[31m", "yellow": "\x1b[33m", "green": "\x1b[32m"}


class ResidentUnavailableError(OSError):
    """No resident process could be reached or started (the caller answers in process)."""


def resident_enabled() -> bool:
    """Whether ``ask`` should use a resident process (``resident_ask``, default on)."""
    value = os.environ.get(RESIDENT_ENV)
    if value is None:
        config = _config_path()
        if not os.path.isfile(config):
            return True
        import tomllib

        try:
            with open(config, "rb") as file:
                value = str(tomllib.load(file).get("resident_ask", True))
        except (OSError, tomllib.TOMLDecodeError):
            return False  # the full CLI reports a broken config file
    lowered = value.strip().lower()
    if lowered not in _TRUE | _FALSE:
        return False  # the settings report the bad value
    return lowered in _TRUE


def _config_path() -> str:
    return os.path.abspath(config_file_path())


def _package_stamp() -> list[Any]:
    """The package's location, its newest source file's time and how many there are."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    newest, count = 0, 0
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [d for d in subfolders if d != "__pycache__"]
        for name in files:
            if name.endswith((".py", ".json")):
                newest = max(newest, os.stat(os.path.join(folder, name)).st_mtime_ns)
                count += 1
    return [root, newest, count]


def _key_file_stamp(config: str) -> list[Any] | None:
    """The history key file's path and stamp: a changed key starts a new process."""
    named = os.environ.get("ZERO_LLM_HISTORY_KEY_FILE")
    if not named and os.path.isfile(config):
        import tomllib

        try:
            with open(config, "rb") as file:
                named = tomllib.load(file).get("history_key_file")
        except (OSError, tomllib.TOMLDecodeError):
            named = None
    if not isinstance(named, str) or not named:
        return None
    path = os.path.abspath(os.path.expanduser(named))
    try:
        found = os.stat(path)
    except OSError:
        return [path, None]
    return [path, found.st_mtime_ns, found.st_size, found.st_ino]


def _needs_directory(config: str) -> bool:
    """Whether the working directory changes the settings (a zero_llm.toml, a relative path)."""
    if os.path.isfile(config) and os.path.dirname(config) == os.getcwd():
        return True
    for name, value in os.environ.items():
        if name.startswith("ZERO_LLM_") and value and not value.startswith(("/", "~")):
            if value.startswith(".") or ("/" in value and "://" not in value):
                return True
            if value.startswith("sqlite") and ":///" in value and ":////" not in value:
                return True
    return False


def resident_key() -> str:
    """The key of the resident process that answers for this interpreter, code and setting.

    The working directory is part of it only when it changes the settings (a
    ``zero_llm.toml`` there, a relative path in a ``ZERO_LLM_*`` variable): one resident
    process serves every directory of one setting group.
    """
    from zero_llm import __version__

    config = _config_path()
    try:  # the content itself: an edit of the same size within one mtime tick still counts
        with open(config, "rb") as file:
            config_stamp: str | None = hashlib.sha256(file.read(_CONFIG_LIMIT)).hexdigest()
    except OSError:
        config_stamp = None
    env = sorted(
        (k, v)
        for k, v in os.environ.items()
        if k.startswith(("ZERO_LLM_", "OLLAMA_")) or k in _KEY_ENV
    )
    where = os.getcwd() if _needs_directory(config) else None
    shown_config = config if config_stamp is not None else None
    parts = [PROTOCOL, __version__, sys.executable, where, env, shown_config, config_stamp]
    parts.append(_key_file_stamp(config))
    parts.append(_package_stamp())
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:24]


def runtime_dir() -> Path:
    """The private directory of this user's resident sockets (made on first use)."""
    base = os.environ.get("XDG_RUNTIME_DIR") or "/tmp"
    path = Path(base) / f"zero-llm-{os.getuid()}"
    try:
        path.mkdir(mode=0o700, exist_ok=True)
        found = path.lstat()
    except OSError as exc:
        raise ResidentUnavailableError(f"cannot make {path}: {exc.strerror}") from exc
    if (
        not stat.S_ISDIR(found.st_mode)
        or found.st_uid != os.getuid()
        or stat.S_IMODE(found.st_mode) & 0o077
    ):
        raise ResidentUnavailableError(f"{path} is not a private directory of this user")
    return path


def socket_path(key: str) -> Path:
    """Where the resident process of ``key`` listens."""
    return runtime_dir() / f"ask-{key}.sock"


def _connect(path: Path) -> socket.socket | None:
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(str(path))
    except (FileNotFoundError, ConnectionRefusedError):
        conn.close()
        return None
    return conn


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    import fcntl

    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _start(path: Path) -> socket.socket:
    """Start the resident process for ``path`` and connect to it once it listens.

    It runs in a session of its own (a terminal's Ctrl-C does not reach it), with its
    output appended to a log beside the socket, and imports the package from where this
    client did (not from a ``zero_llm`` folder that the working directory may hold).
    """
    log = path.with_suffix(".log")
    # The same zero_llm as this client's, whatever the working directory holds.
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    program = (
        f"import sys; sys.path[0] = {here!r}; from zero_llm.resident.server import main; main()"
    )
    pid = os.posix_spawn(
        sys.executable,
        [sys.executable, "-c", program, str(path)],
        os.environ,
        file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, str(log), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600),
            (os.POSIX_SPAWN_DUP2, 1, 2),
        ],
        setsid=True,
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        conn = _connect(path)
        if conn is not None:
            if sys.stderr.isatty():  # said once, by the ask that started it
                sys.stderr.write(
                    f"zero-llm: started a resident process (pid {pid}) to answer asks; it "
                    "leaves when idle, or on 'zero-llm resident stop'\n"
                )
                sys.stderr.flush()
            return conn
        if os.waitpid(pid, os.WNOHANG) != (0, 0):  # it ended without listening
            break
        time.sleep(0.02)
    raise ResidentUnavailableError(f"the resident process did not start: see {log}")


def _reach(key: str) -> socket.socket:
    path = socket_path(key)
    conn = _connect(path)
    if conn is not None:
        return conn
    with _lock(path.with_suffix(".lock")):
        conn = _connect(path)  # another client may have started it meanwhile
        if conn is not None:
            return conn
        path.unlink(missing_ok=True)  # left by a process that died
        _make_room()
        return _start(path)


def _make_room() -> None:
    """Stop the longest idle resident processes so that one more makes ``MAX_RESIDENT``."""
    replies = resident_replies("status")
    idle = [
        (float(reply["status"].get("idle_s") or 0.0), path)
        for path, reply in replies
        if isinstance(reply.get("status"), dict) and not reply["status"].get("answering")
    ]
    extra = len(replies) - (MAX_RESIDENT - 1)
    for _, other in sorted(idle, reverse=True)[: max(extra, 0)]:
        tell_resident(other, "stop")


def call_resident(message: dict[str, Any], key: str | None = None) -> socket.socket:
    """Send one message to the resident process (started if need be); return the connection."""
    conn = _reach(key or resident_key())
    conn.sendall(json.dumps({"protocol": PROTOCOL, **message}).encode() + b"\n")
    return conn


STALE_AFTER_S = 300.0
"""A lock or log file whose process is gone is removed after this many seconds."""


def sweep_stale_files(folder: Path, now: float | None = None) -> list[Path]:
    """Remove the lock and log files of resident processes whose socket is gone."""
    now = time.time() if now is None else now
    removed = []
    for path in [*folder.glob("ask-*.lock"), *folder.glob("ask-*.log")]:
        try:
            old = now - path.stat().st_mtime > STALE_AFTER_S
        except FileNotFoundError:
            continue
        if old and not path.with_suffix(".sock").exists():
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def resident_sockets() -> list[Path]:
    """The sockets of this user's resident processes (some may belong to dead ones).

    Lock and log files left by processes long gone are removed on the way.
    """
    folder = runtime_dir()
    sweep_stale_files(folder)
    return sorted(folder.glob("ask-*.sock"))


def resident_replies(command: str) -> list[tuple[Path, dict[str, Any]]]:
    """Send ``status`` or ``stop`` to every live resident process; its socket and reply.

    A socket left by a process that died is removed on the way.
    """
    replies = []
    for path in resident_sockets():
        reply = tell_resident(path, command)
        if reply is None:
            path.unlink(missing_ok=True)
            continue
        replies.append((path, reply))
    return replies


def tell_resident(path: Path, command: str) -> dict[str, Any] | None:
    """Send ``status`` or ``stop`` to the process at ``path``; its reply, None if it is gone."""
    conn = _connect(path)
    if conn is None:
        return None
    reply: dict[str, Any] = {}
    with conn, conn.makefile("r", encoding="utf-8") as reader:
        conn.sendall(json.dumps({"protocol": PROTOCOL, command: True}).encode() + b"\n")
        for line in reader:
            reply.update(json.loads(line))
    return reply


def _styled(text: str, style: str | None, stream: IO[str]) -> str:
    if style in _STYLES and stream.isatty() and not os.environ.get("NO_COLOR"):
        return f"{_STYLES[style]}{text}\x1b[0m"
    return text


def _relay(conn: socket.socket, stdout: IO[str], stderr: IO[str]) -> tuple[bool, int | None]:
    """Print the resident's events: (it accepted the question, the exit code or None).

    No exit code means the process closed before its last event.
    """
    accepted = False
    line_open = False  # stdout's last text did not end its line: a status line starts anew
    drawn = False  # a status line is on the terminal: wiped before anything else is written
    draw = stderr.isatty()
    with conn.makefile("r", encoding="utf-8") as reader:
        for line in reader:
            try:
                event = json.loads(line)
            except ValueError:  # a line cut short: the process ended mid-write
                break
            if "accepted" in event:
                accepted = True
            if drawn and {"status", "out", "err", "think"} & set(event):
                stderr.write("\r\x1b[K")
                stderr.flush()
                drawn = False
            if "status" in event:
                if draw and event["status"]:
                    stderr.write("\r\x1b[K" + str(event["status"]))
                    stderr.flush()
                    drawn = True
            elif "out" in event:
                stdout.write(event["out"])
                stdout.flush()
                line_open = not event["out"].endswith("\n") if event["out"] else line_open
            elif "think" in event:  # ask --think: the model's thinking as it comes
                stderr.write(_styled(str(event["think"]), "dim", stderr))
                stderr.flush()
            elif "err" in event:
                start = "\n" if line_open and stdout.isatty() else ""
                line_open = False
                stderr.write(start + _styled(event["err"], event.get("style"), stderr) + "\n")
                stderr.flush()
            if "exit" in event:
                return True, int(event["exit"])
    return accepted, None


def where_to_look(request: AskRequest) -> str:
    """How to see whether a question whose answer was cut off was stored after all."""
    if request.session is not None:
        return f"see `zero-llm sessions show {request.session}`"
    return "see `zero-llm usage --since 10m`"


def _ask_resident(request: AskRequest) -> int:
    """Ask the resident process; ask again only if it provably never began the question.

    The process says ``accepted`` before any work on a question. A connection closed
    before that may be answered anew (the process was leaving, or died reading it);
    after it, the answer may already be stored, so the question is never sent twice.
    """
    key = resident_key()
    for _ in range(2):  # a resident process may close just as it is reached: once more
        with call_resident({"ask": request.to_wire()}, key) as conn:
            accepted, code = _relay(conn, sys.stdout, sys.stderr)
        if code is not None:
            return code
        if accepted:
            sys.stderr.write(
                "error: the resident zero-llm process stopped before its answer ended; "
                "the answer may already be stored (not asked again, so as not to ask "
                f"twice): {where_to_look(request)}\n"
            )
            return 1
    raise ResidentUnavailableError("the resident process closed the connection twice")


def run_ask(args: list[str]) -> int | None:
    """Answer ``zero-llm ask ARGS`` through the resident process; None: not ours to answer."""
    if not hasattr(socket, "AF_UNIX") or not hasattr(os, "posix_spawn"):
        return None
    if not resident_enabled():
        return None
    options = parse_ask_args(args)
    if options is None:
        return None
    try:
        request = build_request(options)
    except NoQuestionError as exc:
        sys.stderr.write(_styled(f"error: {exc}", "red", sys.stderr) + "\n")
        return 1
    try:
        try:
            return _ask_resident(request)
        except OSError as exc:  # no resident process to be had (socket, runtime directory)
            if isinstance(exc, BrokenPipeError):
                raise
            sys.stderr.write(f"note: answering without the resident process ({exc})\n")
        from zero_llm.cli.ask import answer_in_process

        return answer_in_process(request)
    except KeyboardInterrupt:  # the hang-up cancels the question in the resident process
        sys.stderr.write("\n")
        return 130
    except BrokenPipeError:  # stdout's reader left (| head): quietly, as click does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
