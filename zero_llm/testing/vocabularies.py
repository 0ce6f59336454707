"""Real vocabularies for the emulator, read offline from the ``quicktok-v1`` wheel's data.

The wheel ships Llama 3's and Qwen 2.5's byte-level BPE ranks as plain data files
(``quicktok/data/*.vocab``); we read them as data only, never importing quicktok's code.
From the ranks the emulator counts tokens exactly (through tiktoken) and serves the
vocabulary the way Ollama does in ``/api/show`` with ``verbose``: GPT-2 byte-level token
strings, merges in rank order, token types and the pre-tokenizer name. When the wheel is
not installed the emulator falls back to its regex tokenizer (and serves no arrays).
"""

from __future__ import annotations

import importlib.util
import struct
from functools import cache
from pathlib import Path
from typing import Any

import tiktoken

from zero_llm.vocab import PRE_TOKENIZER_PATTERNS, byte_encoder

__all__ = ["VocabTokenizer", "vocab_tokenizer"]

VOCAB_FILES = {"llama3": "llama3", "qwen2": "qwen3"}
"""Our vocabulary name -> quicktok's data file stem (Qwen 2.5 and Qwen 3 share one BPE)."""
KNOWN_IDS = {"llama3": [9906, 1917], "qwen2": [9707, 1879]}
"""Token ids of "Hello world" in each vocabulary, checked before a file is trusted."""


def _data_dir() -> Path | None:
    spec = importlib.util.find_spec("quicktok")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _read_ranks(path: Path) -> dict[bytes, int]:
    data = path.read_bytes()
    (count,) = struct.unpack_from("<I", data, 0)
    offset, ranks = 4, {}
    for _ in range(count):
        (length,) = struct.unpack_from("<H", data, offset)
        offset += 2
        token = data[offset : offset + length]
        offset += length
        (rank,) = struct.unpack_from("<I", data, offset)
        offset += 4
        ranks[token] = rank
    return ranks


def _read_specials(path: Path) -> dict[str, int]:
    data = path.read_bytes()
    (count,) = struct.unpack_from("<I", data, 0)
    offset, specials = 4, {}
    for _ in range(count):
        rank, length = struct.unpack_from("<IH", data, offset)
        offset += 6
        specials[data[offset : offset + length].decode()] = rank
        offset += length
    return specials


class VocabTokenizer:
    """Exact token counts and GGUF-shaped vocabulary arrays for one real vocabulary."""

    def __init__(self, name: str, pre: str, ranks: dict[bytes, int], specials: dict[str, int]):
        self.name = name
        self.pre = pre
        self._ranks = ranks
        self._specials = specials
        self.encoding = tiktoken.Encoding(
            name=f"emulated-{name}",
            pat_str=PRE_TOKENIZER_PATTERNS[pre],
            mergeable_ranks=ranks,
            special_tokens=specials,
        )

    def count(self, text: str) -> int:
        """Count the tokens of a text exactly."""
        return len(self.encoding.encode_ordinary(text))

    def pieces(self, text: str) -> list[str]:
        """Split text at token boundaries, keeping multi-byte characters whole."""
        out: list[str] = []
        pending = b""
        for token in self.encoding.decode_tokens_bytes(self.encoding.encode_ordinary(text)):
            pending += token
            try:
                out.append(pending.decode("utf-8"))
            except UnicodeDecodeError:
                continue
            pending = b""
        if pending:
            out.append(pending.decode("utf-8", errors="replace"))
        return out

    def vocabulary(self) -> dict[str, Any]:
        """The ``tokenizer.ggml.*`` arrays as a verbose ``/api/show`` serves them."""
        return _gguf_arrays(self.name)


@cache
def _gguf_arrays(name: str) -> dict[str, Any]:
    tokenizer = vocab_tokenizer(name)
    assert tokenizer is not None
    ranks, specials = tokenizer._ranks, tokenizer._specials
    encode = byte_encoder()
    size = max([*ranks.values(), *specials.values()]) + 1
    tokens = [f"[PAD{i}]" for i in range(size)]
    types = [USER_DEFINED] * size
    for token, rank in ranks.items():
        tokens[rank] = "".join(encode[b] for b in token)
        types[rank] = NORMAL
    for text, rank in specials.items():
        tokens[rank] = text
        types[rank] = CONTROL
    merges = []
    for token, rank in sorted(ranks.items(), key=lambda item: item[1]):
        if len(token) > 1 and (pair := _last_merge(token, rank, ranks)) is not None:
            merges.append(" ".join("".join(encode[b] for b in part) for part in pair))
    return {
        "tokenizer.ggml.tokens": tokens,
        "tokenizer.ggml.token_type": types,
        "tokenizer.ggml.merges": merges,
    }


NORMAL, CONTROL, USER_DEFINED = 1, 3, 4


def _last_merge(token: bytes, rank: int, ranks: dict[bytes, int]) -> tuple[bytes, bytes] | None:
    """The two parts BPE joins last to make ``token`` (None: BPE never makes it)."""
    parts = [token[i : i + 1] for i in range(len(token))]
    while len(parts) > 2:
        best, where = None, -1
        for i in range(len(parts) - 1):
            found = ranks.get(parts[i] + parts[i + 1])
            if found is not None and found < rank and (best is None or found < best):
                best, where = found, i
        if best is None:
            return None
        parts[where : where + 2] = [parts[where] + parts[where + 1]]
    return (parts[0], parts[1])


@cache
def vocab_tokenizer(name: str, pre: str | None = None) -> VocabTokenizer | None:
    """The tokenizer of a real vocabulary ("llama3" or "qwen2"), or None if unavailable.

    ``pre`` names the pre-tokenizer when a model splits text its own way over a shared
    vocabulary (DeepSeek-R1's Qwen distills: ``deepseek-r1-qwen``).
    """
    data = _data_dir()
    stem = VOCAB_FILES.get(name)
    if data is None or stem is None or not (data / f"{stem}.vocab").exists():
        return None
    ranks = _read_ranks(data / f"{stem}.vocab")
    specials = _read_specials(data / f"{stem}.special")
    default_pre = {"llama3": "llama-bpe", "qwen2": "qwen2"}[name]
    tokenizer = VocabTokenizer(name, pre or default_pre, ranks, specials)
    if tokenizer.encoding.encode_ordinary("Hello world") != KNOWN_IDS[name]:
        raise RuntimeError(f"the {name} vocabulary file does not give the known token ids")
    return tokenizer
