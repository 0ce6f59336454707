"""Benchmark: what a user waits for before and around an answer, measured in subprocesses.

Rows (best and median of repetitions, each a fresh interpreter):

7. start-up: ``python -c pass`` (the floor), ``import zero_llm``, and the commands that do
   no model I/O (``--help``, ``route``, ``config``, then the record commands ``sessions
   list``, ``logs`` and ``usage`` on a history of ``CONVERSATIONS`` conversations, each
   with its usage record, and ``sessions list`` on a fresh home, a new one for every run),
   with ``import zero_llm.manager`` (everything a query needs) for scale; goal: a median
   < 0.3 s for each of ours. The children may write bytecode (``PYTHONDONTWRITEBYTECODE``
   is dropped), so the runs after the first load it as an installed package does;
   ``--row 7`` runs this row alone;
8. first token from the command line: ``zero-llm ask --task quick`` against the emulator
   in its own process at time scale 1 (it really takes the time it reports) on a warm
   model, answered by the resident process that an earlier ask started (the default), and
   then in process (``ZERO_LLM_RESIDENT_ASK=false``) for scale. "added" is the wall time
   less the model's own time as the emulator reports it (load + prompt eval + eval
   durations, which is at most its total_duration); goal < 100 ms. It is split into the
   command's own start-up, imports and relay (wall less the answer's latency) and the ask
   itself (latency less the model);
9. the resident process's memory: its RSS as its ``resident status`` reports it, after the
   asks of 8 (one model's vocabulary held), then after an ask to each of the three models.

    python -m benchmarks.startup [--row 7]
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

REPEAT = 7
CLI = "from zero_llm.cli import main; main()"
CONVERSATIONS = 200
"""How many conversations (a question, its answer and the call's usage record) row 7's
record commands read."""
POPULATE = """
import asyncio, sys
from langchain_core.messages import AIMessage, HumanMessage
from zero_llm.answer import CallTrace
from zero_llm.history import NewMessage
from zero_llm.settings import load_settings
from zero_llm.storage import Storage
from zero_llm.usage import UsageRecord

async def main(count):
    storage = Storage(load_settings())
    for n in range(count):
        trace = CallTrace(requested_model="llama3.1:8b", session_id=f"s{n}", model="llama3.1:8b")
        trace.finish(None)
        answer = AIMessage(f"answer {n}", response_metadata={"request_id": trace.request_id})
        turn = [NewMessage(HumanMessage(f"question {n}?"), 4), NewMessage(answer, 3)]
        await storage.history.append(f"s{n}", turn, usage=UsageRecord.from_trace(trace, None))
    await storage.aclose()

asyncio.run(main(int(sys.argv[1])))
"""
"""Writes the conversations through the history store, as the runtime writes them."""


def run(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=True,
    )
    return time.perf_counter() - started, done.stdout


def timed(args: list[str], env: dict[str, str], *, fresh: bool = False) -> tuple[float, float]:
    """Best and median wall time of ``REPEAT`` runs (after one to warm the caches).

    With ``fresh``, every run has a new, empty ``ZERO_LLM_HOME``.
    """
    homes: list[str] = []

    def once() -> float:
        if not fresh:
            return run(args, env)[0]
        homes.append(tempfile.mkdtemp(prefix="zero-llm-bench-fresh-"))
        return run(args, {**env, "ZERO_LLM_HOME": homes[-1]})[0]

    try:
        once()
        samples = [once() for _ in range(REPEAT)]
    finally:
        for home in homes:
            shutil.rmtree(home, ignore_errors=True)
    return min(samples), statistics.median(samples)


def row(name: str, best: float, median: float, note: str = "") -> None:
    print(f"  {name:<42} {best * 1e3:9.1f} ms (median {median * 1e3:7.1f}) {note}")


@contextmanager
def emulator_at_real_speed(env: dict[str, str]) -> Iterator[str]:
    """``zero-llm emulate --time-scale 1`` on a free port, in a process of its own."""
    process = subprocess.Popen(
        [sys.executable, "-c", CLI, "emulate", "--port", "0", "--time-scale", "1"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        yield line.split(" on ", 1)[1].split()[0]
    finally:
        process.terminate()
        process.wait(timeout=10)


def startup_rows(env: dict[str, str]) -> None:
    """7: the start-up of the commands without model I/O, and its floor."""
    print("\n7. start-up, fresh interpreter each time")
    floor, floor_med = timed(["-c", "pass"], env)
    row("python -c pass", floor, floor_med)
    run(["-c", POPULATE, str(CONVERSATIONS)], env)
    history = f"({CONVERSATIONS} conversations)"
    for name, args, fresh in (
        ("import zero_llm", ["-c", "import zero_llm"], False),
        ("zero-llm --help", ["-c", CLI, "--help"], False),
        ("zero-llm route hello", ["-c", CLI, "route", "hello"], False),
        ("zero-llm config", ["-c", CLI, "config"], False),
        (f"zero-llm sessions list {history}", ["-c", CLI, "sessions", "list"], False),
        (f"zero-llm logs {history}", ["-c", CLI, "logs"], False),
        (f"zero-llm usage {history}", ["-c", CLI, "usage"], False),
        ("zero-llm sessions list (fresh home)", ["-c", CLI, "sessions", "list"], True),
        ("import zero_llm.manager (scale)", ["-c", "import zero_llm.manager"], False),
    ):
        best, median = timed(args, env, fresh=fresh)
        met = "met" if median < 0.3 else "NOT met"
        row(name, best, median, "" if "scale" in name else f"goal < 300 ms: {met}")


def main() -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ZERO_LLM_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    env["ZERO_LLM_HOME"] = tempfile.mkdtemp(prefix="zero-llm-bench-")
    startup_rows(env)
    if sys.argv[1:] == ["--row", "7"]:
        shutil.rmtree(env["ZERO_LLM_HOME"], ignore_errors=True)
        return

    env["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="zl-", dir="/tmp")  # its own resident
    with emulator_at_real_speed(env) as url:
        env["OLLAMA_HOST"] = url
        run(["-c", CLI, "load", "llama"], env)
        try:
            for title, extra in (
                ("answered by the resident process (the default)", {}),
                ("answered in process", {"ZERO_LLM_RESIDENT_ASK": "false"}),
            ):
                print(f"\n8. zero-llm ask on a warm model, {title} (emulator, time scale 1)")
                ask_rows({**env, **extra}, goal=not extra)
            footprint_rows(env)
        finally:
            run(["-c", CLI, "resident", "stop"], env)
            shutil.rmtree(env["XDG_RUNTIME_DIR"], ignore_errors=True)
            shutil.rmtree(env["ZERO_LLM_HOME"], ignore_errors=True)


def footprint_rows(env: dict[str, str]) -> None:
    """9: the resident process's RSS (its own status), as it holds one, then three vocabularies."""
    print("\n9. the resident process's memory (RSS), by the vocabularies it holds")

    def show(label: str) -> None:
        [status] = json.loads(run(["-c", CLI, "resident", "status", "--json"], env)[1])
        held = ", ".join(status["vocabularies"])
        print(f"  {label:<34} {status['rss_bytes'] / 2**20:9.0f} MiB ({held})")

    show("after the asks above")
    for task in ("code", "trading"):
        run(["-c", CLI, "ask", "--task", task, "--no-stream", "hello there"], env)
    show("after an ask to each model")


def ask_rows(env: dict[str, str], *, goal: bool) -> None:
    ask = ["-c", CLI, "ask", "--task", "quick", "--no-stream", "--json", "hello there"]
    run(ask, env)  # builds and saves the encoding; starts the resident process
    walls, model_times, latencies = [], [], []
    for _ in range(REPEAT):
        wall, out = run(ask, env)
        data = json.loads(out)
        own = sum(
            data.get(k) or 0.0
            for k in ("load_duration_s", "prompt_eval_duration_s", "eval_duration_s")
        )
        walls.append(wall)
        model_times.append(own)
        latencies.append(data["latency_s"])
    added = [w - m for w, m in zip(walls, model_times, strict=True)]
    row("wall time", min(walls), statistics.median(walls))
    row("model's own time (Ollama's)", min(model_times), statistics.median(model_times))
    verdict = f"goal < 100 ms: {'met' if statistics.median(added) < 0.1 else 'NOT met'}"
    row("added by zero-llm", min(added), statistics.median(added), verdict if goal else "")
    start = [w - lat for w, lat in zip(walls, latencies, strict=True)]
    row("  of it: the command around the ask", min(start), statistics.median(start))
    inside = [lat - m for lat, m in zip(latencies, model_times, strict=True)]
    row("  of it: the ask itself", min(inside), statistics.median(inside))


if __name__ == "__main__":
    main()
