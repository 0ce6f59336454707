"""Real vocabularies for the emulator, read offline from the ``quicktok-v1`` wheel's data.

The wheel ships Llama 3's and Qwen 2.5's byte-level BPE ranks as plain data files
(``quicktok/data/*.vocab``); we read them as data only, never importing quicktok's code, and
nothing of the zero_llm package either: the emulator is a witness independent of the package.

What is the emulator's own here, each from a primary source:

- The split rules (pre-tokenizer regexes), as llama.cpp's ``src/llama-vocab.cpp`` (ggml-org/
  llama.cpp, commit eb6a99c6) defines them: ``tokenizer.ggml.pre`` ``llama-bpe`` selects
  ``LLAMA_VOCAB_PRE_TYPE_LLAMA3``; ``qwen2`` and ``deepseek-r1-qwen`` both select
  ``LLAMA_VOCAB_PRE_TYPE_QWEN2`` (``tokenizer_pre == "qwen2" || tokenizer_pre ==
  "deepseek-r1-qwen"``). The regexes below are llama.cpp's, written with case classes where its
  comment gives the tokenizer.json original ``(?i:'s|'t|...)``.
- The special tokens each model's vocabulary carries (the added tokens of its Hugging Face
  tokenizer, which the GGUF conversion stores as CONTROL / USER_DEFINED tokens): Llama 3.1's 256
  (its names for 128004, 128008 and 128010 differ from Llama 3's), Qwen 2.5's 22 from
  151643, and the DeepSeek-R1 Qwen distills' own names over the same ids (User, Assistant...).
- GPT-2's byte-to-character map, for the ``tokenizer.ggml.tokens`` array.

Counting a prompt, as Ollama tokenizes one (its ``tokenizer/bytepairencoding.go`` Encode with
``addSpecial``, and llama.cpp's ``llama_tokenize`` with ``add_special`` and ``parse_special``):
the text is first split on the vocabulary's special tokens, each of which is one token, the rest
goes through the split rule and BPE, and BOS is put in front when the vocabulary's
``add_bos_token`` is true (Llama 3.1 and the DeepSeek-R1 distills; not Qwen 2.5). The three
templates never write BOS themselves, so it is added once. A prompt that already starts with BOS
gets a second one, as in llama.cpp (which warns "the final prompt starts with 2 BOS tokens") and
Ollama's tokenizer (``addSpecials`` warns "adding bos token to prompt which already has it").
"""

from __future__ import annotations

import importlib.util
import struct
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import tiktoken

__all__ = ["SPLIT_RULES", "VocabTokenizer", "byte_to_unicode", "vocab_tokenizer"]

VOCAB_FILES = {"llama3": "llama3", "qwen2": "qwen3"}
"""Our vocabulary name -> quicktok's data file stem (Qwen 2.5 and Qwen 3 share one BPE)."""
KNOWN_IDS = {"llama3": [9906, 1917], "qwen2": [9707, 1879]}
"""Token ids of "Hello world" in each vocabulary, checked before a file is trusted."""

_CONTRACTIONS = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
LLAMA3_SPLIT = (
    _CONTRACTIONS + r"|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
"""llama.cpp's LLAMA_VOCAB_PRE_TYPE_LLAMA3 split rule."""
QWEN2_SPLIT = (
    _CONTRACTIONS + r"|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
"""llama.cpp's LLAMA_VOCAB_PRE_TYPE_QWEN2 split rule."""
SPLIT_RULES = {"llama-bpe": LLAMA3_SPLIT, "qwen2": QWEN2_SPLIT, "deepseek-r1-qwen": QWEN2_SPLIT}
"""``tokenizer.ggml.pre`` -> the split rule llama.cpp uses for it."""


def _llama31_specials() -> dict[str, int]:
    named = {
        128000: "<|begin_of_text|>",
        128001: "<|end_of_text|>",
        128002: "<|reserved_special_token_0|>",
        128003: "<|reserved_special_token_1|>",
        128004: "<|finetune_right_pad_id|>",
        128005: "<|reserved_special_token_2|>",
        128006: "<|start_header_id|>",
        128007: "<|end_header_id|>",
        128008: "<|eom_id|>",
        128009: "<|eot_id|>",
        128010: "<|python_tag|>",
    }
    for token_id in range(128011, 128256):
        named[token_id] = f"<|reserved_special_token_{token_id - 128011 + 3}|>"
    return {text: token_id for token_id, text in named.items()}


_QWEN_TAIL = [
    "<|quad_start|>",
    "<|quad_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
    "<tool_call>",
    "</tool_call>",
    "<|fim_prefix|>",
    "<|fim_middle|>",
    "<|fim_suffix|>",
    "<|fim_pad|>",
    "<|repo_name|>",
    "<|file_sep|>",
]
_QWEN25_HEAD = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|object_ref_start|>",
    "<|object_ref_end|>",
    "<|box_start|>",
    "<|box_end|>",
]
_R1_DISTILL_HEAD = [
    "<\uff5cend\u2581of\u2581sentence\uff5c>",
    "<\uff5cUser\uff5c>",
    "<\uff5cAssistant\uff5c>",
    "<\uff5cbegin\u2581of\u2581sentence\uff5c>",
    "<|EOT|>",
    "<think>",
    "</think>",
]


@dataclass(frozen=True)
class VocabularyProfile:
    """The special tokens and BOS/EOS facts of one model family's vocabulary."""

    specials: tuple[tuple[str, int], ...]
    bos_token_id: int
    eos_token_id: int
    add_bos_token: bool


def _profile(name: str, pre: str) -> VocabularyProfile:
    if name == "llama3":
        return VocabularyProfile(tuple(_llama31_specials().items()), 128000, 128009, True)
    if pre == "deepseek-r1-qwen":
        specials = [*_R1_DISTILL_HEAD, *_QWEN_TAIL]
        return VocabularyProfile(
            tuple((t, 151643 + i) for i, t in enumerate(specials)), 151646, 151643, True
        )
    specials = [*_QWEN25_HEAD, *_QWEN_TAIL]
    return VocabularyProfile(
        tuple((t, 151643 + i) for i, t in enumerate(specials)), 151643, 151645, False
    )


def _data_dir() -> Path | None:
    spec = importlib.util.find_spec("quicktok")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "data"


@cache
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


@cache
def byte_to_unicode() -> dict[int, str]:
    """GPT-2's map from each byte to the printable character that stands for it."""
    printable = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAC + 1), *range(0xAE, 0xFF + 1)]
    chars = list(printable)
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            chars.append(256 + extra)
            extra += 1
    return {byte: chr(char) for byte, char in zip(printable, chars, strict=True)}


class VocabTokenizer:
    """Exact token counts and GGUF-shaped vocabulary arrays for one real vocabulary."""

    def __init__(
        self, name: str, pre: str, ranks: dict[bytes, int], profile: VocabularyProfile
    ) -> None:
        self.name = name
        self.pre = pre
        self.profile = profile
        self._ranks = ranks
        self._specials = dict(profile.specials)
        self.encoding = tiktoken.Encoding(
            name=f"emulated-{name}-{pre}",
            pat_str=SPLIT_RULES[pre],
            mergeable_ranks=ranks,
            special_tokens=self._specials,
        )

    @property
    def bos_token_id(self) -> int:
        """``tokenizer.ggml.bos_token_id``."""
        return self.profile.bos_token_id

    @property
    def eos_token_id(self) -> int:
        """``tokenizer.ggml.eos_token_id``."""
        return self.profile.eos_token_id

    @property
    def add_bos_token(self) -> bool:
        """``tokenizer.ggml.add_bos_token``: whether a prompt gets BOS in front."""
        return self.profile.add_bos_token

    @property
    def special_tokens(self) -> dict[str, int]:
        """The vocabulary's special tokens, text -> id."""
        return dict(self._specials)

    def count(self, text: str) -> int:
        """Count the tokens of plain text (special-token text is split as ordinary text)."""
        return len(self.encoding.encode_ordinary(text))

    def count_prompt(self, prompt: str) -> int:
        """Count a rendered prompt as Ollama does: special tokens whole, BOS when added."""
        tokens = len(self.encoding.encode(prompt, allowed_special="all"))
        return tokens + (1 if self.add_bos_token else 0)

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
        return _gguf_arrays(self.name, self.pre)


NORMAL, CONTROL, USER_DEFINED = 1, 3, 4


@cache
def _gguf_arrays(name: str, pre: str) -> dict[str, Any]:
    tokenizer = vocab_tokenizer(name, pre)
    assert tokenizer is not None
    ranks, specials = tokenizer._ranks, tokenizer._specials
    encode = byte_to_unicode()
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


_DEFAULT_PRE = {"llama3": "llama-bpe", "qwen2": "qwen2"}


@cache
def vocab_tokenizer(name: str, pre: str | None = None) -> VocabTokenizer | None:
    """The tokenizer of a real vocabulary ("llama3" or "qwen2"), or None if unavailable.

    ``pre`` names the split rule (``tokenizer.ggml.pre``) when a model splits text its own
    way or carries its own special tokens over a shared vocabulary (DeepSeek-R1's Qwen
    distills: ``deepseek-r1-qwen``).
    """
    data = _data_dir()
    stem = VOCAB_FILES.get(name)
    if data is None or stem is None or not (data / f"{stem}.vocab").exists():
        return None
    pre = pre or _DEFAULT_PRE[name]
    if pre not in SPLIT_RULES:
        raise ValueError(f"no split rule for tokenizer.ggml.pre {pre!r}")
    tokenizer = VocabTokenizer(name, pre, _read_ranks(data / f"{stem}.vocab"), _profile(name, pre))
    if tokenizer.encoding.encode_ordinary("Hello world") != KNOWN_IDS[name]:
        raise RuntimeError(f"the {name} vocabulary file does not give the known token ids")
    return tokenizer
