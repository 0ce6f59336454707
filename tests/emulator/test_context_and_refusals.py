"""num_ctx capped at the model's own window, and requests Ollama refuses (format, option types)."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import ollama
import pytest

from zero_llm.testing import OllamaEmulator
from zero_llm.testing.scheduler import model_memory

USER = [{"role": "user", "content": "hi"}]


def test_a_num_ctx_over_the_models_window_loads_at_the_window(
    emulator: OllamaEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    client = ollama.Client(host=emulator.base_url)
    with caplog.at_level(logging.WARNING):
        client.chat(model="qwen2.5-coder:32b", messages=USER, options={"num_ctx": 131072})
    assert "requested context size too large for model" in caplog.text
    assert "num_ctx=131072 n_ctx_train=32768" in caplog.text
    (loaded,) = client.ps().models
    assert loaded.context_length == 32768
    qwen = emulator.state.models["qwen2.5-coder:32b"]
    assert loaded.size == model_memory(qwen, 32768, 1, "f16")
    assert emulator.loaded_models() == {"qwen2.5-coder:32b": 32768}


def test_a_prompt_over_the_capped_window_is_refused_without_truncation(
    emulator: OllamaEmulator,
) -> None:
    body = {
        "model": "qwen2.5-coder:32b",
        "messages": [{"role": "user", "content": "word " * 40_000}],
        "options": {"num_ctx": 131072},
        "truncate": False,
        "stream": False,
    }
    response = httpx.post(emulator.base_url + "/api/chat", json=body)
    assert response.status_code == 400
    assert "exceeds the context length (32768)" in response.json()["error"]


@pytest.mark.parametrize(
    ("fmt", "error"),
    [
        ("xml", 'invalid format: "\\"xml\\""; expected "json" or a valid JSON Schema object'),
        ([1, 2], 'invalid format: "[1,2]"; expected "json" or a valid JSON Schema object'),
    ],
)
def test_an_invalid_format_gets_ollamas_error(
    emulator: OllamaEmulator, fmt: Any, error: str
) -> None:
    body = {"model": "llama3.1:8b", "messages": USER, "stream": False, "format": fmt}
    response = httpx.post(emulator.base_url + "/api/chat", json=body)
    assert response.status_code == 500
    assert response.json() == {"error": error}


@pytest.mark.parametrize("fmt", ["json", "", None, {"type": "object"}])
def test_valid_formats_are_answered(emulator: OllamaEmulator, fmt: Any) -> None:
    body = {"model": "llama3.1:8b", "messages": USER, "stream": False, "format": fmt}
    assert httpx.post(emulator.base_url + "/api/chat", json=body).status_code == 200


@pytest.mark.parametrize(
    ("stop", "error"),
    [
        ([1], 'option "stop" must be of an array of strings'),
        ("END", 'option "stop" must be of type array'),
    ],
)
def test_a_stop_option_of_the_wrong_type_gets_ollamas_500(
    emulator: OllamaEmulator, stop: Any, error: str
) -> None:
    body = {"model": "llama3.1:8b", "messages": USER, "stream": False, "options": {"stop": stop}}
    response = httpx.post(emulator.base_url + "/api/chat", json=body)
    assert response.status_code == 500
    assert response.json() == {"error": error}
