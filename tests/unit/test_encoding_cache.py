"""Encodings saved on disk per model digest."""

from __future__ import annotations

from pathlib import Path

import pytest

from zero_llm import vocab
from zero_llm.testing.vocabularies import vocab_tokenizer
from zero_llm.vocab import (
    cached_encoding,
    encoding_from_gguf,
    encoding_path,
    read_encoding,
    remember_encoding,
    write_encoding,
)

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
