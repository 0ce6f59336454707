"""Routing: the task table, aliases, unknown tasks, and the text classifier."""

from __future__ import annotations

import pytest

from zero_llm import InvalidRequestError, ModelManager, UnknownModelError
from zero_llm.catalog import DEFAULT_MODELS, Catalog
from zero_llm.router import SCAN_LIMIT, classify_text


@pytest.fixture
def mm() -> ModelManager:
    return ModelManager()


@pytest.mark.parametrize(
    ("task", "model"),
    [
        ("code", "qwen2.5-coder:32b"),
        ("Coding", "qwen2.5-coder:32b"),
        ("trading", "deepseek-r1:32b"),
        ("ANALYSIS", "deepseek-r1:32b"),
        ("reasoning", "deepseek-r1:32b"),
        ("quick", "llama3.1:8b"),
        ("chat", "llama3.1:8b"),
        ("anything", "llama3.1:8b"),
        ("  code  ", "qwen2.5-coder:32b"),
    ],
)
def test_switch_model_table(mm: ModelManager, task: str, model: str) -> None:
    assert mm.switch_model(task) == model


def test_unknown_task_says_it_went_to_the_default(mm: ModelManager) -> None:
    decision = mm.route("hello", task="poetry")
    assert decision.model == "llama3.1:8b" and decision.explicit
    assert "unknown task 'poetry'" in decision.reason


@pytest.mark.parametrize("bad", ["", "   ", None, 3])
def test_switch_model_rejects_bad_tasks(mm: ModelManager, bad: object) -> None:
    with pytest.raises(InvalidRequestError, match="task"):
        mm.switch_model(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "task"),
    [
        ("```python\nprint(1)\n```", "code"),
        ('Traceback (most recent call last):\n  File "a.py", line 3, in <module>', "code"),
        ("def parse(x):\n    return x", "code"),
        ("Fix this bug in my python function", "code"),
        ("TypeError: undefined is not a function", "code"),
        ("כתוב לי פונקציה שממיינת רשימה", "code"),
        ("Why did $NVDA drop after earnings?", "analysis"),
        ("Analyse the risk of this trading strategy", "analysis"),
        ("Should I hedge my portfolio against volatility?", "analysis"),
        ("למה המניה ירדה היום ומה הסיכון?", "analysis"),
        ("What's the capital of France?", "quick"),
        ("hi", "quick"),
        ("תודה רבה!", "quick"),
        ("Tell me a joke 😀", "quick"),
    ],
)
def test_classifier_cases(text: str, task: str) -> None:
    decided, reason = classify_text(text)
    assert decided == task, reason
    assert reason


def test_classifier_reads_head_and_tail_of_long_text() -> None:
    long = "word " * 10000 + "\n```python\nx = 1\n```"
    assert classify_text(long)[0] == "code"
    assert SCAN_LIMIT <= 2048


def test_route_reason_travels_with_decision(mm: ModelManager) -> None:
    decision = mm.route("Why is $TSLA falling and what is my risk?")
    assert decision.role == "reasoning" and not decision.explicit
    assert "$TSLA" in decision.reason


def test_catalog_resolves_names_aliases_and_roles() -> None:
    catalog = Catalog(DEFAULT_MODELS, "quick")
    for name in ("llama", "LLAMA3.1", "llama3.1:8b", "quick"):
        assert catalog.resolve(name).name == "llama3.1:8b"
    assert catalog.resolve("deepseek").think is True
    assert [s.name for s in catalog.fallback_chain(catalog.resolve("qwen"))] == ["llama3.1:8b"]
    with pytest.raises(UnknownModelError, match="not in the catalog"):
        catalog.resolve("mistral")
