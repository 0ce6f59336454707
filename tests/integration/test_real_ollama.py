"""Client-level checks that hold for Ollama itself: run against the emulator always, and
against a real Ollama when ``ZERO_LLM_REAL_OLLAMA=1`` and one answers at ``OLLAMA_HOST``.

The real run needs the model named by ``ZERO_LLM_REAL_MODEL`` (default ``llama3.1:8b``)
pulled already; it is skipped, saying why, when no Ollama is reachable.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import ollama
import pytest

from zero_llm import ModelManager
from zero_llm.testing import OllamaEmulator

REAL_ENABLED = os.environ.get("ZERO_LLM_REAL_OLLAMA") == "1"
REAL_HOST = os.environ.get("OLLAMA_HOST", "http://127.0.0.1:11434")
REAL_MODEL = os.environ.get("ZERO_LLM_REAL_MODEL", "llama3.1:8b")


def _real_url() -> str:
    from zero_llm.settings import parse_ollama_host

    return parse_ollama_host(REAL_HOST)


@pytest.fixture(params=["emulator", pytest.param("real", marks=pytest.mark.real_ollama)])
def server(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """(base URL, model) of the emulator, or of the real Ollama when enabled and reachable."""
    if request.param == "emulator":
        with OllamaEmulator() as emu:
            yield emu.base_url, "llama3.1:8b"
        return
    if not REAL_ENABLED:
        pytest.skip("real Ollama checks are off: set ZERO_LLM_REAL_OLLAMA=1 to run them")
    url = _real_url()
    try:
        httpx.get(url + "/api/version", timeout=2).raise_for_status()
    except httpx.HTTPError as exc:
        pytest.skip(f"no Ollama reachable at {url}: {exc}")
    yield url, REAL_MODEL


def test_version_and_tags(server: tuple[str, str]) -> None:
    url, model = server
    client = ollama.Client(host=url)
    assert model in {m.model for m in client.list().models}
    assert httpx.get(url + "/").text == "Ollama is running"


def test_show_has_a_context_length(server: tuple[str, str]) -> None:
    url, model = server
    info = ollama.Client(host=url).show(model)
    arch = (info.modelinfo or {})["general.architecture"]
    assert (info.modelinfo or {})[f"{arch}.context_length"] >= 8192


def test_streamed_chat_ends_with_counts(server: tuple[str, str]) -> None:
    url, model = server
    parts = list(
        ollama.Client(host=url).chat(
            model=model,
            messages=[{"role": "user", "content": "Say hi."}],
            stream=True,
            options={"num_predict": 16, "num_ctx": 2048},
        )
    )
    final = parts[-1]
    assert final.done and final.done_reason in ("stop", "length")
    assert final.prompt_eval_count and final.eval_count and final.eval_duration


async def test_missing_model_is_404(server: tuple[str, str]) -> None:
    url, _ = server
    with pytest.raises(ollama.ResponseError) as info:
        await ollama.AsyncClient(host=url).chat(
            model="zero-llm-no-such-model:1b", messages=[{"role": "user", "content": "x"}]
        )
    assert info.value.status_code == 404


async def test_manager_answers_through_the_server(server: tuple[str, str]) -> None:
    url, model = server
    manager = ModelManager(
        ollama_host=url, models={"quick": {"name": model, "num_predict": 32}}, context_window=4096
    )
    answer = await manager.query_model("quick", "Say hi in two words.")
    assert answer.strip() and answer.model == model
    assert answer.trace.prompt_tokens and answer.trace.output_tokens
