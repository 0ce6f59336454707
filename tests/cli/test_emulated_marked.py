"""The demo's emulated answers are marked in the usage record and left out of summaries."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.terminal import base_env, run_piped


def test_demo_answers_are_marked_and_summaries_leave_them_out(tmp_path: Path) -> None:
    env = base_env("127.0.0.1:9", tmp_path / "home", ZERO_LLM_RESIDENT_ASK="false")
    demo = run_piped(["demo", "what is a bond?"], env)
    assert demo.returncode == 0, demo.stderr
    assert "EMULATED" in demo.stderr
    counted = json.loads(run_piped(["usage", "--json"], env).stdout)
    assert sum(s["calls"] for s in counted) == 0
    everything = json.loads(run_piped(["usage", "--json", "--emulated"], env).stdout)
    assert sum(s["calls"] for s in everything) == 1
    [call] = json.loads(run_piped(["logs", "--json"], env).stdout)
    assert call["emulated"] is True
    assert "EMULATED" in run_piped(["logs"], env).stdout
