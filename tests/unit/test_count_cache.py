"""Counting never fails for its cache, and a long-lived counter's memory stays bounded."""

from __future__ import annotations

import threading

from langchain_core.messages import AIMessage, HumanMessage

from zero_llm import tokens
from zero_llm.testing.vocabularies import vocab_tokenizer
from zero_llm.tokens import TEMPLATE_OVERHEADS, ExactCounter


def counter() -> ExactCounter:
    tokenizer = vocab_tokenizer("llama3")
    assert tokenizer is not None
    return ExactCounter(tokenizer.encoding, TEMPLATE_OVERHEADS["llama3"])


def test_a_full_cache_never_loses_a_count_in_use(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(tokens, "CACHE_LIMIT", 50)
    exact = counter()
    held = [HumanMessage(f"held {i}") for i in range(40)]
    exact.count_messages(held)  # the cache now holds these
    batch = [*held, *(AIMessage(f"new {i}") for i in range(40))]  # passes the limit
    counts = exact.count_messages(batch)
    assert counts == [exact.count_message(m) for m in batch]
    assert len(exact._cache) <= 50


def test_a_worker_thread_emptying_the_cache_cannot_break_a_count(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(tokens, "CACHE_LIMIT", 64)
    exact = counter()
    stop = threading.Event()

    def churn() -> None:  # as the after-answer count does, off the event loop
        i = 0
        while not stop.is_set():
            exact.count_text(f"worker text {i}")
            i += 1

    worker = threading.Thread(target=churn)
    worker.start()
    try:
        for round_ in range(300):
            messages = [HumanMessage(f"round {round_} message {i}") for i in range(30)]
            assert len(exact.count_messages(messages)) == 30
    finally:
        stop.set()
        worker.join()


def test_a_long_lived_counter_across_200000_distinct_texts() -> None:
    """The soak: 200,000 distinct texts, in 50-message steps; no error, memory bounded."""
    exact = counter()
    for step in range(4000):
        messages = [HumanMessage(f"soak {step}-{i}") for i in range(50)]
        assert len(exact.count_messages(messages)) == 50
    assert len(exact._cache) <= tokens.CACHE_LIMIT
