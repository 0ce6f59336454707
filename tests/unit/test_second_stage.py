"""The optional second stage against the emulator: plumbing and budget, not accuracy."""

from __future__ import annotations

import ollama

from zero_llm.routing.classifier import CLASSES
from zero_llm.routing.second_stage import SCHEMA, ask_quick_model
from zero_llm.testing import OllamaEmulator


async def test_the_quick_model_answers_one_task_class(emulator: OllamaEmulator) -> None:
    client = ollama.AsyncClient(host=emulator.base_url)
    opinion = await ask_quick_model(client.chat, "Is gold a buy?", budget_s=5.0)
    assert opinion.task in CLASSES and opinion.error is None
    sent = emulator.requests_to("/api/chat")[-1]
    assert sent.body is not None and sent.body["format"] == SCHEMA


async def test_past_the_budget_the_local_decision_stands(emulator: OllamaEmulator) -> None:
    emulator.faults.stall_before_first_chunk(1.0)
    client = ollama.AsyncClient(host=emulator.base_url)
    opinion = await ask_quick_model(client.chat, "hello", budget_s=0.2)
    assert opinion.task is None and opinion.error == "timeout"
    assert opinion.seconds < 0.9


async def test_invalid_output_gives_no_opinion(emulator: OllamaEmulator) -> None:
    emulator.faults.invalid_json_next()
    client = ollama.AsyncClient(host=emulator.base_url)
    opinion = await ask_quick_model(client.chat, "hello", budget_s=5.0)
    assert opinion.task is None and opinion.error == "invalid output"
