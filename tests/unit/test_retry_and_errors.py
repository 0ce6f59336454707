"""The retry policy and the translation of library errors into the error tree."""

from __future__ import annotations

import json
import random

import httpx
import ollama
import pytest

from zero_llm import errors
from zero_llm.ollama.translate import translate_error
from zero_llm.retry import RetryPolicy
from zero_llm.settings import RetrySettings


def test_backoff_grows_is_capped_and_jittered_downwards() -> None:
    policy = RetryPolicy(
        RetrySettings(initial_backoff=1.0, multiplier=2.0, max_backoff=3.0, jitter=0.25),
        random.Random(7),
    )
    waits = [policy.backoff(n) for n in (1, 2, 3, 4)]
    assert 0.75 <= waits[0] <= 1.0 and 1.5 <= waits[1] <= 2.0
    assert 2.25 <= waits[2] <= 3.0 and 2.25 <= waits[3] <= 3.0


def test_only_transient_errors_are_retried_and_only_up_to_max() -> None:
    policy = RetryPolicy(RetrySettings(max_attempts=3))
    busy = errors.OllamaBusyError("busy")
    assert policy.should_retry(busy, 1) and policy.should_retry(busy, 2)
    assert not policy.should_retry(busy, 3)
    for permanent in (
        errors.OllamaRequestError("bad"),
        errors.ModelNotFoundError("x"),
        errors.InvalidRequestError("x"),
    ):
        assert not policy.should_retry(permanent, 1)


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (ollama.ResponseError("model 'x' not found", 404), errors.ModelNotFoundError),
        (ollama.ResponseError("server busy", 503), errors.OllamaBusyError),
        (ollama.ResponseError("slow down", 429), errors.OllamaBusyError),
        (ollama.ResponseError("runner crashed", 500), errors.OllamaServerError),
        (ollama.ResponseError("error mid-stream"), errors.OllamaServerError),
        (ollama.ResponseError("invalid options", 400), errors.OllamaRequestError),
        (ConnectionError("refused"), errors.OllamaUnavailableError),
        (httpx.ConnectError("refused"), errors.OllamaUnavailableError),
        (httpx.ReadTimeout("slow"), errors.OllamaTimeoutError),
        (httpx.RemoteProtocolError("incomplete chunked read"), errors.OllamaServerError),
        (json.JSONDecodeError("bad", "{", 0), errors.OllamaServerError),
    ],
)
def test_translate_error(exc: BaseException, kind: type) -> None:
    translated = translate_error(exc, model="llama3.1:8b", host="http://h:1")
    assert type(translated) is kind
    assert isinstance(translated, errors.ZeroLLMError)


def test_model_not_found_says_what_to_pull() -> None:
    error = translate_error(ollama.ResponseError("model 'x' not found", 404), model="qwen:7b")
    assert "ollama pull qwen:7b" in str(error)
