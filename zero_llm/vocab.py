"""A model's own vocabulary as a ``tiktoken`` encoding, built offline from what Ollama serves.

In: the ``tokenizer.ggml.*`` entries of ``/api/show`` with ``verbose`` (GPT-2 byte-level
token strings, merges, token types, pre-tokenizer name). Out: a ``tiktoken.Encoding``
whose ranks follow the merge order (single bytes first, then each merge's result), so
counts are exact for byte-level BPE models (Llama 3, Qwen 2/2.5, DeepSeek-R1 distills).
Nothing is downloaded: tiktoken only gets the ranks we hand it. Encodings are cached per
model digest for the life of the process.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

import tiktoken

__all__ = [
    "PRE_TOKENIZER_PATTERNS",
    "UnsupportedVocabularyError",
    "byte_decoder",
    "byte_encoder",
    "cached_encoding",
    "encoding_from_gguf",
]

LLAMA3_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
QWEN2_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
DEEPSEEK3_PATTERN = (
    # DeepSeek-V3 / R1 splits digits, then CJK runs, then the rest; one alternation in
    # that order behaves the same except where a Latin run touches CJK letters.
    r"\p{N}{1,3}|[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+"
    r"|[!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+"
    r"| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
GPT2_PATTERN = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
O200K_PATTERN = (
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+"
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+"
    r"[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)

PRE_TOKENIZER_PATTERNS: dict[str, str] = {
    "llama-bpe": LLAMA3_PATTERN,
    "llama3": LLAMA3_PATTERN,
    "smaug-bpe": LLAMA3_PATTERN,
    "qwen2": QWEN2_PATTERN,
    "qwen35": QWEN2_PATTERN,
    "deepseek-r1-qwen": DEEPSEEK3_PATTERN,  # llama.cpp gives R1's Qwen distills V3's splits
    "deepseek-v3": DEEPSEEK3_PATTERN,
    "gpt-4o": O200K_PATTERN,
    "gpt2": GPT2_PATTERN,
    "default": GPT2_PATTERN,
}
"""Pre-tokenizer regex by the GGUF ``tokenizer.ggml.pre`` name."""

NORMAL_TOKEN = 1
CONTROL_TOKEN = 3
USER_DEFINED_TOKEN = 4


class UnsupportedVocabularyError(ValueError):
    """The served vocabulary cannot be turned into an exact encoding (estimate instead)."""


@cache
def byte_encoder() -> dict[int, str]:
    """GPT-2's map from each byte to the printable character that stands for it."""
    printable = [*range(33, 127), *range(161, 173), *range(174, 256)]
    chars = list(printable)
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return {b: chr(c) for b, c in zip(printable, chars, strict=True)}


@cache
def byte_decoder() -> dict[str, int]:
    """The inverse of ``byte_encoder``."""
    return {c: b for b, c in byte_encoder().items()}


def _to_bytes(token: str) -> bytes:
    decoder = byte_decoder()
    try:
        return bytes(decoder[ch] for ch in token)
    except KeyError as exc:
        raise UnsupportedVocabularyError(
            f"token {token!r} is not in GPT-2 byte-level form (not a byte-level BPE vocabulary)"
        ) from exc


def encoding_from_gguf(
    name: str,
    tokens: Sequence[str],
    merges: Sequence[str] | None,
    token_types: Sequence[int] | None,
    pre: str,
) -> tiktoken.Encoding:
    """Build a tiktoken encoding from GGUF tokenizer arrays (ranks from merge order)."""
    pattern = PRE_TOKENIZER_PATTERNS.get(pre)
    if pattern is None:
        raise UnsupportedVocabularyError(f"unknown pre-tokenizer {pre!r}")
    if not tokens or not merges:
        raise UnsupportedVocabularyError("the vocabulary has no tokens or no merges")
    types = token_types or [NORMAL_TOKEN] * len(tokens)
    special: dict[str, int] = {}
    ids: dict[bytes, int] = {}
    for index, (token, kind) in enumerate(zip(tokens, types, strict=False)):
        if kind in (CONTROL_TOKEN, USER_DEFINED_TOKEN):
            special[token] = index
        else:
            ids.setdefault(_to_bytes(token), index)
    singles = sorted((i, b) for b, i in ids.items() if len(b) == 1)
    if len(singles) != 256:
        raise UnsupportedVocabularyError(
            f"a byte-level vocabulary has all 256 single bytes; this one has {len(singles)}"
        )
    ranks: dict[bytes, int] = {b: rank for rank, (_, b) in enumerate(singles)}
    next_rank = 256
    for merge in merges:
        left, _, right = merge.partition(" ")
        merged = _to_bytes(left) + _to_bytes(right)
        if merged not in ranks:
            ranks[merged] = next_rank
            next_rank += 1
    specials = {text: next_rank + offset for offset, text in enumerate(sorted(special))}
    return tiktoken.Encoding(
        name=name, pat_str=pattern, mergeable_ranks=ranks, special_tokens=specials
    )


def encoding_from_show(name: str, model_info: Mapping[str, Any]) -> tiktoken.Encoding:
    """Build the encoding from a verbose ``/api/show`` ``model_info``."""
    if model_info.get("tokenizer.ggml.model") not in ("gpt2", None):
        raise UnsupportedVocabularyError(
            f"tokenizer {model_info.get('tokenizer.ggml.model')!r} is not byte-level BPE"
        )
    return encoding_from_gguf(
        name,
        model_info.get("tokenizer.ggml.tokens") or [],
        model_info.get("tokenizer.ggml.merges"),
        model_info.get("tokenizer.ggml.token_type"),
        str(model_info.get("tokenizer.ggml.pre") or "default"),
    )


_cache: dict[str, tiktoken.Encoding] = {}
_cache_lock = threading.Lock()


def cached_encoding(digest: str) -> tiktoken.Encoding | None:
    """The encoding already built for a model digest in this process, if any."""
    with _cache_lock:
        return _cache.get(digest)


def remember_encoding(digest: str, encoding: tiktoken.Encoding) -> None:
    """Keep an encoding for a model digest for the life of the process."""
    with _cache_lock:
        _cache[digest] = encoding
