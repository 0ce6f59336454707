"""A model's own vocabulary as a ``tiktoken`` encoding, built offline from what Ollama serves.

In: the ``tokenizer.ggml.*`` entries of ``/api/show`` with ``verbose`` (GPT-2 byte-level
token strings, merges, token types, pre-tokenizer name). Out: a ``tiktoken.Encoding``
whose ranks follow the merge order (single bytes first, then each merge's result), so
counts are exact for byte-level BPE models (Llama 3, Qwen 2/2.5, DeepSeek-R1 distills).
Nothing is downloaded: tiktoken only gets the ranks we hand it. Encodings are cached per
model digest for the life of the process and, given a directory (``home/encodings``), on
disk: one file per digest, written atomically, its checksum checked on every read (a
corrupt or foreign file is ignored and the encoding rebuilt), so a new process does not
fetch and rebuild a vocabulary it has seen before.
"""

from __future__ import annotations

import array
import hashlib
import json
import logging
import os
import re
import sys
import tempfile
import threading
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import tiktoken

__all__ = [
    "PRE_TOKENIZER_PATTERNS",
    "UnsupportedVocabularyError",
    "byte_decoder",
    "byte_encoder",
    "cached_encoding",
    "encoding_from_gguf",
    "encoding_path",
    "held_encodings",
    "read_encoding",
    "remember_encoding",
    "write_encoding",
]

log = logging.getLogger(__name__)

# The split rules below are llama.cpp's (src/llama-vocab.cpp, ``llm_tokenizer_bpe``), the
# code Ollama runs to tokenize a prompt, written as one regex each. Each one matches every
# character of any text (its last alternatives take any run of spaces, and any run of
# what is not a letter, digit or space), so tiktoken, which skips what its pattern does
# not match, never loses a character under them.
LLAMA3_PATTERN = (
    r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+"
    r"|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
QWEN2_PATTERN = (
    r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+"
    r"|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)

LLAMA3_PRE_NAMES = frozenset(
    ["llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2"]
)
"""llama.cpp's names for LLAMA_VOCAB_PRE_TYPE_LLAMA3 (which also adds BOS by default)."""

PRE_TOKENIZER_PATTERNS: dict[str, str] = {
    # LLAMA_VOCAB_PRE_TYPE_LLAMA3 (and SMAUG, DBRX: the same regex)
    **dict.fromkeys([*sorted(LLAMA3_PRE_NAMES), "smaug-bpe", "dbrx"], LLAMA3_PATTERN),
    # LLAMA_VOCAB_PRE_TYPE_QWEN2: DeepSeek-R1's Qwen distills split as Qwen2 does
    **dict.fromkeys(
        ["qwen2", "deepseek-r1-qwen", "kormo", "megrez", "stablelm2", "hunyuan"], QWEN2_PATTERN
    ),
}
"""Split rule by the GGUF ``tokenizer.ggml.pre`` name, for the names whose llama.cpp rule is
one regex that tiktoken runs the same way. Any other name (``default``, ``gpt-2`` (whose
llama.cpp regex differs from tiktoken's handling of a lone trailing space),
``deepseek-v3`` and the other multi-regex rules) is unsupported: counting falls back to
the estimate, never to a rule that could drop or merge text differently."""

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


MAX_VOCABULARY = 1_000_000
"""The most tokens or merges a served vocabulary may have (real ones: 32K-262K)."""


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
    if len(tokens) > MAX_VOCABULARY or len(merges) > MAX_VOCABULARY:
        raise UnsupportedVocabularyError(
            f"{len(tokens)} tokens and {len(merges)} merges: more than the {MAX_VOCABULARY} "
            "any real model has (a broken or hostile server); counting by estimate"
        )
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

FILE_MAGIC = b"zero-llm-encoding 1\n"
"""First line of an encoding file; a new layout gets a new number."""


def encoding_path(directory: Path, digest: str) -> Path:
    """The file that holds the encoding of a model digest under ``directory``."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "-", digest)
    return directory / f"{safe}.tiktoken"


def write_encoding(path: Path, encoding: tiktoken.Encoding) -> None:
    """Write an encoding to ``path`` atomically (a temporary file, then ``os.replace``)."""
    state = encoding.__getstate__()  # tiktoken's pickle state: its parts, by the public protocol
    if not isinstance(state, dict):
        raise UnsupportedVocabularyError(f"encoding {encoding.name!r} has no parts to save")
    ranks: Mapping[bytes, int] = state["mergeable_ranks"]
    tokens = list(ranks)
    rank_array = array.array("I", (ranks[t] for t in tokens))
    length_array = array.array("I", (len(t) for t in tokens))
    if sys.byteorder != "little":  # pragma: no cover - the file is little-endian everywhere
        rank_array.byteswap()
        length_array.byteswap()
    body = rank_array.tobytes() + length_array.tobytes() + b"".join(tokens)
    header = {
        "name": state["name"],
        "pat_str": state["pat_str"],
        "special_tokens": state["special_tokens"],
        "count": len(tokens),
        "sha256": hashlib.sha256(body).hexdigest(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".tiktoken")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(FILE_MAGIC + json.dumps(header).encode() + b"\n" + body)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_encoding(path: Path) -> tiktoken.Encoding | None:
    """The encoding saved at ``path``; None when it is missing, corrupt or not ours."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    try:
        if not data.startswith(FILE_MAGIC):
            raise ValueError("not a zero-llm encoding file")
        end = data.index(b"\n", len(FILE_MAGIC))
        header = json.loads(data[len(FILE_MAGIC) : end])
        body = memoryview(data)[end + 1 :]
        if hashlib.sha256(body).hexdigest() != header["sha256"]:
            raise ValueError("checksum mismatch")
        count = int(header["count"])
        rank_array = array.array("I")
        rank_array.frombytes(body[: 4 * count])
        length_array = array.array("I")
        length_array.frombytes(body[4 * count : 8 * count])
        if sys.byteorder != "little":  # pragma: no cover
            rank_array.byteswap()
            length_array.byteswap()
        blob = bytes(body[8 * count :])
        if len(rank_array) != count or sum(length_array) != len(blob):
            raise ValueError("truncated")
        ranks: dict[bytes, int] = {}
        offset = 0
        for rank, length in zip(rank_array, length_array, strict=True):
            ranks[blob[offset : offset + length]] = rank
            offset += length
        return tiktoken.Encoding(
            name=str(header["name"]),
            pat_str=str(header["pat_str"]),
            mergeable_ranks=ranks,
            special_tokens={str(k): int(v) for k, v in header["special_tokens"].items()},
        )
    except (ValueError, KeyError, TypeError) as exc:
        log.info("ignoring the saved encoding %s (it will be rebuilt): %s", path, exc)
        return None


def held_encodings() -> list[str]:
    """The names of the encodings this process holds (about 50 MB each for a 150K vocabulary)."""
    with _cache_lock:
        return sorted({encoding.name for encoding in _cache.values()})


def cached_encoding(digest: str, directory: Path | None = None) -> tiktoken.Encoding | None:
    """The encoding built for a model digest: from this process, else from ``directory``."""
    with _cache_lock:
        found = _cache.get(digest)
    if found is not None or directory is None:
        return found
    found = read_encoding(encoding_path(directory, digest))
    if found is not None:
        with _cache_lock:
            _cache.setdefault(digest, found)
    return found


def remember_encoding(
    digest: str, encoding: tiktoken.Encoding, directory: Path | None = None
) -> None:
    """Keep an encoding for a model digest for this process and, with ``directory``, on disk.

    A file that cannot be written is logged and skipped: counting never fails for it.
    """
    with _cache_lock:
        _cache[digest] = encoding
    if directory is None:
        return
    try:
        write_encoding(encoding_path(directory, digest), encoding)
    except (OSError, UnsupportedVocabularyError) as exc:
        log.warning("could not save the encoding of %s under %s: %s", digest, directory, exc)
