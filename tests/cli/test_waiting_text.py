"""What the status line says while a question waits (pure)."""

from __future__ import annotations

from zero_llm.answer import CallTrace
from zero_llm.cli.progress import waiting_text
from zero_llm.memory_plan import SchedulerState


def _state(**kwargs: object) -> SchedulerState:
    values: dict[str, object] = {"resident": (), "loading": (), "in_flight": {}, "queued": {}}
    values.update(kwargs)
    return SchedulerState(**values)  # type: ignore[arg-type]


def test_each_wait_has_its_words() -> None:
    trace = CallTrace(requested_model="deepseek-r1:32b")
    assert waiting_text(None, 0.4) == "waiting for the answer... 0s"
    assert waiting_text(trace, 2.2) == "waiting for deepseek-r1:32b... 2s"
    assert waiting_text(trace, 1, "pulling model deepseek-r1:32b") == (
        "pulling model deepseek-r1:32b... 1s"
    )
    queued = {"h": _state(queued={"deepseek-r1:32b": 1}, in_flight={"qwen2.5-coder:32b": 2})}
    assert waiting_text(trace, 5, None, queued) == (
        "deepseek-r1:32b queued behind qwen2.5-coder:32b... 5s"
    )
    loading = {"h": _state(loading=("deepseek-r1:32b",))}
    assert waiting_text(trace, 3, None, loading) == "loading deepseek-r1:32b... 3s"
    trace.cold_load = "cold load of deepseek-r1:32b (evicting qwen2.5-coder:32b)"
    assert waiting_text(trace, 7) == ("loading deepseek-r1:32b (evicting qwen2.5-coder:32b)... 7s")
    trace.first_token_s = 0.5
    assert waiting_text(trace, 12) == "deepseek-r1:32b thinking... 12s"
