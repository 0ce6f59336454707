"""Benchmark: what a user waits for before and around an answer, measured in subprocesses.

Rows (best and median of repetitions, each a fresh interpreter):

7. start-up: ``python -c pass`` (the floor), ``import zero_llm``, and the commands that do
   no model I/O (``--help``, ``route``, ``config``, ``sessions list``, ``logs``: the record
   commands open the history without a manager, so no LangChain), with ``import
   zero_llm.manager`` (everything a query needs) for scale; goal < 0.3 s for each of ours;
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

    python -m benchmarks.startup
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


def timed(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    run(args, env)  # warm the file cache
    samples = [run(args, env)[0] for _ in range(REPEAT)]
    return min(samples), statistics.median(samples)


def row(name: str, best: float, median: float, note: str = "") -> None:
    print(f"  {name:<34} {best * 1e3:9.1f} ms (median {median * 1e3:7.1f}) {note}")


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


def main() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZERO_LLM_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    env["ZERO_LLM_HOME"] = tempfile.mkdtemp(prefix="zero-llm-bench-")
    print("\n7. start-up, fresh interpreter each time")
    floor, floor_med = timed(["-c", "pass"], env)
    row("python -c pass", floor, floor_med)
    for name, args in (
        ("import zero_llm", ["-c", "import zero_llm"]),
        ("zero-llm --help", ["-c", CLI, "--help"]),
        ("zero-llm route hello", ["-c", CLI, "route", "hello"]),
        ("zero-llm config", ["-c", CLI, "config"]),
        ("zero-llm sessions list", ["-c", CLI, "sessions", "list"]),
        ("zero-llm logs", ["-c", CLI, "logs"]),
        ("import zero_llm.manager (scale)", ["-c", "import zero_llm.manager"]),
    ):
        best, median = timed(args, env)
        goal = "" if "scale" in name else f"goal < 300 ms: {'met' if best < 0.3 else 'NOT met'}"
        row(name, best, median, goal)

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
