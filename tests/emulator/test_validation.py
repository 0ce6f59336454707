"""Strict request validation, with Ollama's statuses and error texts."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from zero_llm.testing import OllamaEmulator

USER = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize(
    ("path", "body", "status", "error"),
    [
        ("/api/chat", {"stream": "yes"}, 400, "ChatRequest.stream of type bool"),
        ("/api/chat", {"messages": "hi"}, 400, "ChatRequest.messages of type []"),
        ("/api/chat", {"model": 7}, 400, "cannot unmarshal number into Go struct field"),
        ("/api/chat", {"messages": [{"role": "user", "content": 3}]}, 400, "messages.content"),
        ("/api/generate", {"prompt": ["a"]}, 400, "GenerateRequest.prompt of type string"),
        ("/api/chat", {"think": "very"}, 400, 'invalid think value: "very"'),
        ("/api/chat", {"think": 1}, 400, "think must be a boolean or string"),
        ("/api/chat", {"keep_alive": "soon"}, 400, 'time: invalid duration "soon"'),
        ("/api/chat", {"keep_alive": [5]}, 400, "Unsupported type"),
        ("/api/chat", {"options": {"temperature": "hot"}}, 500, 'option "temperature" must be'),
        ("/api/chat", {"options": {"stop": "you"}}, 500, 'option "stop" must be'),
    ],
)
def test_wrong_types_get_ollamas_errors(
    emulator: OllamaEmulator, path: str, body: dict[str, Any], status: int, error: str
) -> None:
    payload = {"model": "llama3.1:8b", "messages": USER, "prompt": "hi", "stream": False}
    response = httpx.post(emulator.base_url + path, json={**payload, **body})
    assert response.status_code == status
    assert error in response.json()["error"]


def test_valid_variants_are_accepted(emulator: OllamaEmulator) -> None:
    url = emulator.base_url + "/api/chat"
    for extra in (
        {"think": "high", "model": "deepseek-r1:32b"},
        {"keep_alive": "1h30m"},
        {"keep_alive": -1},
        {"options": {"temperature": 1, "num_ctx": 2048.0, "stop": ["x"]}},
        {"stream": None},
    ):
        body = {"model": "llama3.1:8b", "messages": USER, "stream": False, **extra}
        assert httpx.post(url, json=body).status_code == 200, extra


def test_embed_with_an_empty_string_answers_no_embeddings(emulator: OllamaEmulator) -> None:
    response = httpx.post(
        emulator.base_url + "/api/embed", json={"model": "nomic-embed-text", "input": ""}
    )
    assert response.status_code == 200 and response.json()["embeddings"] == []
    assert emulator.stats.loads == 0  # nothing to embed, nothing loaded
