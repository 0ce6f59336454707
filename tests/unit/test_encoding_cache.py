"""Encodings saved on disk per model digest, and the byte-length bound that skips counting."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from zero_llm import vocab
from zero_llm.testing.vocabularies import vocab_tokenizer
from zero_llm.tokens import TEMPLATE_OVERHEADS, ExactCounter
from zero_llm.vocab import (
    cached_encoding,
    encoding_from_gguf,
    encoding_path,
    read_encoding,
    remember_encoding,
    write_encoding,
)
from zero_llm.window import byte_bound, fits_by_bytes

SAMPLE = "Rockets 🚀 and שלום, def f(x): return x  # émigré café <|eot_id|>"


@pytest.fixture(scope="module")
def built():  # type: ignore[no-untyped-def]
    tokenizer = vocab_tokenizer("llama3")
    assert tokenizer is not None, "the quicktok-v1 test dependency is missing"
    arrays = tokenizer.vocabulary()
    return encoding_from_gguf(
        "llama3.1:8b",
        arrays["tokenizer.ggml.tokens"],
        arrays["tokenizer.ggml.merges"],
        arrays["tokenizer.ggml.token_type"],
        tokenizer.pre,
    )


def test_a_saved_encoding_reads_back_the_same(built, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = encoding_path(tmp_path, "sha256:abc/../def")
    assert path.parent == tmp_path and path.name.endswith(".tiktoken")
    write_encoding(path, built)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left
    loaded = read_encoding(path)
    assert loaded is not None
    assert loaded.name == built.name and loaded.n_vocab == built.n_vocab
    assert loaded.special_tokens_set == built.special_tokens_set
    assert loaded.encode_ordinary(SAMPLE) == built.encode_ordinary(SAMPLE)
    special = sorted(built.special_tokens_set)[0]
    assert loaded.encode_single_token(special) == built.encode_single_token(special)


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[:-100],  # truncated
        lambda data: data[:-5] + b"XXXXX",  # a flipped tail: checksum mismatch
        lambda data: b"something else entirely\n" + data,  # not ours
        lambda data: b"",  # empty
    ],
)
def test_a_damaged_file_is_ignored(built, tmp_path: Path, damage) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "x.tiktoken"
    write_encoding(path, built)
    path.write_bytes(damage(path.read_bytes()))
    assert read_encoding(path) is None
    assert read_encoding(tmp_path / "missing.tiktoken") is None


def test_cache_reads_disk_once_and_rebuilds_over_corruption(  # type: ignore[no-untyped-def]
    built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vocab, "_cache", {})  # a fresh process
    digest = "sha256:" + "ab" * 32
    assert cached_encoding(digest, tmp_path) is None
    remember_encoding(digest, built, tmp_path)
    saved = encoding_path(tmp_path, digest)
    assert saved.is_file()
    monkeypatch.setattr(vocab, "_cache", {})  # the next process finds it on disk
    again = cached_encoding(digest, tmp_path)
    assert again is not None and again.encode_ordinary(SAMPLE) == built.encode_ordinary(SAMPLE)
    assert cached_encoding(digest, None) is again  # kept in memory from then on
    monkeypatch.setattr(vocab, "_cache", {})
    saved.write_bytes(saved.read_bytes()[:1000])
    assert cached_encoding(digest, tmp_path) is None  # corrupt: the caller rebuilds
    remember_encoding(digest, built, tmp_path)  # and the rebuilt one replaces the file
    monkeypatch.setattr(vocab, "_cache", {})
    assert cached_encoding(digest, tmp_path) is not None


def test_an_unwritable_directory_only_logs(built, tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    remember_encoding("d1", built, blocker / "encodings")
    assert "could not save the encoding of d1" in caplog.text
    assert cached_encoding("d1") is built


async def test_a_new_manager_counts_exactly_without_fetching_the_vocabulary(
    emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import fast_settings
    from zero_llm import ModelManager

    monkeypatch.setattr(vocab, "_cache", {})  # a fresh process: nothing built yet
    home = tmp_path / "home"
    first = ModelManager(fast_settings(emulator.base_url, home=home))
    await first.query_model("llama", "hello")
    await first.aclose()
    assert len(list((home / "encodings").iterdir())) == 1
    verbose = [r for r in emulator.requests_to("/api/show") if (r.body or {}).get("verbose")]
    assert len(verbose) == 1
    monkeypatch.setattr(vocab, "_cache", {})  # as a new process would start
    second = ModelManager(fast_settings(emulator.base_url, home=home))
    answer = await second.query_model("llama", "hello again")
    await second.aclose()
    verbose = [r for r in emulator.requests_to("/api/show") if (r.body or {}).get("verbose")]
    assert len(verbose) == 1, "the saved encoding was not used"
    assert answer.trace.prompt_tokens_counted == answer.trace.prompt_tokens


def messages_of(texts: list[str]) -> list[BaseMessage]:
    kinds = [SystemMessage, HumanMessage, AIMessage]
    return [kinds[i % 3](t) for i, t in enumerate(texts)] + [HumanMessage("and now?")]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(st.text(max_size=200), max_size=6), budget=st.integers(0, 2000))
def test_the_byte_bound_never_underestimates(built, texts: list[str], budget: int) -> None:  # type: ignore[no-untyped-def]
    counter = ExactCounter(built, TEMPLATE_OVERHEADS["llama3"])
    messages = messages_of(texts)
    tokens = counter.count_prompt(messages)
    assert tokens <= byte_bound(messages, counter.overhead)
    if fits_by_bytes(messages, counter.overhead, budget):
        assert tokens <= budget


def test_fits_by_bytes_decides_at_the_exact_boundary() -> None:
    overhead = TEMPLATE_OVERHEADS["llama3"]  # 5 per message, 5 per prompt
    messages: list[BaseMessage] = [SystemMessage("ab"), HumanMessage("é")]  # 2 + 2 bytes
    assert byte_bound(messages, overhead) == 5 + 2 * 5 + 4
    assert fits_by_bytes(messages, overhead, 19)
    assert not fits_by_bytes(messages, overhead, 18)
    calls = AIMessage("", tool_calls=[{"name": "quote", "args": {"t": "AAPL"}, "id": "1"}])
    assert byte_bound([calls], overhead) == 5 + 5 + len("quote{'t': 'AAPL'}")
