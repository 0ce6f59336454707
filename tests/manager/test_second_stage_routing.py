"""The optional second stage in the manager's routing: asked only when the classifier is unsure."""

from __future__ import annotations

from tests.conftest import fast_settings
from zero_llm import ModelManager
from zero_llm.routing.second_stage import SCHEMA
from zero_llm.testing import OllamaEmulator


def _manager(emulator: OllamaEmulator, *, second_stage: bool) -> ModelManager:
    routing = {"confidence_threshold": 1.0, "llm_second_stage": second_stage}
    return ModelManager(fast_settings(emulator.base_url, routing=routing))


def _classification_requests(emulator: OllamaEmulator) -> list[str]:
    return [
        r.body["model"]
        for r in emulator.requests_to("/api/chat")
        if r.body is not None and r.body.get("format") == SCHEMA
    ]


async def test_a_doubtful_request_gets_the_quick_models_opinion(emulator: OllamaEmulator) -> None:
    async with _manager(emulator, second_stage=True) as mm:
        answer = await mm.ask("hello there")
    # The emulator fills an enum with its first value: "analysis".
    assert answer.trace.route is not None and answer.trace.route.method == "second-stage"
    assert answer.model == "deepseek-r1:32b"
    assert "llama3.1:8b judged it analysis" in answer.trace.route.reason
    assert _classification_requests(emulator) == ["llama3.1:8b"]


async def test_off_by_default_and_never_asked_for_a_confident_or_explicit_request(
    emulator: OllamaEmulator,
) -> None:
    async with _manager(emulator, second_stage=False) as mm:
        answer = await mm.ask("hello there")
    assert answer.trace.route is not None and answer.trace.route.method == "low-confidence-default"
    async with ModelManager(
        fast_settings(emulator.base_url, routing={"llm_second_stage": True})
    ) as mm:
        await mm.ask("fix this python function: def f(x) return x")
        await mm.ask("hello there", task="trading")
    assert _classification_requests(emulator) == []


async def test_past_its_budget_the_local_decision_stands(emulator: OllamaEmulator) -> None:
    routing = {
        "confidence_threshold": 1.0,
        "llm_second_stage": True,
        "second_stage_budget_s": 0.2,
    }
    emulator.faults.stall_before_first_chunk(1.0)
    async with ModelManager(fast_settings(emulator.base_url, routing=routing)) as mm:
        answer = await mm.ask("hello there")
    assert answer.model == "llama3.1:8b"
    assert answer.trace.route is not None and "second opinion: timeout" in answer.trace.route.reason
