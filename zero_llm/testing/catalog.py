"""What the emulator holds: its models, how it tokenizes, and the text it answers with.

Pure data and pure functions; the server (``zero_llm.testing.server``) drives them.
Numbers follow the real models as Ollama reports them (``/api/show``, ``/api/tags``).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from zero_llm.testing.prompts import (
    DEEPSEEK_R1_TEMPLATE,
    LLAMA31_TEMPLATE,
    QWEN25_CODER_TEMPLATE,
    QWEN_SYSTEM,
)

__all__ = [
    "DEFAULT_EMULATED_MODELS",
    "EmulatedModel",
    "RegexTokenizer",
    "answer_for",
    "embedding_for",
    "gist",
    "thinking_for",
]


class RegexTokenizer:
    """A deterministic stand-in tokenizer: words, single punctuation marks, and runs of space.

    Each non-ASCII character is its own token, so Hebrew and emoji cost more than ASCII,
    as they do under real byte-level BPE vocabularies.
    """

    name = "regex"
    _pattern = re.compile(
        r" ?[A-Za-z]+| ?[0-9]{1,3}|[^\x00-\x7f]| ?[^\sA-Za-z0-9\x80-\U0010ffff]|\s+"
    )

    def pieces(self, text: str) -> list[str]:
        """Split text into token pieces whose concatenation is the text."""
        return self._pattern.findall(text)

    def count(self, text: str) -> int:
        """Count the tokens of a text."""
        return len(self._pattern.findall(text))

    def count_prompt(self, prompt: str) -> int:
        """Count a rendered prompt (no special tokens, no BOS in the stand-in)."""
        return self.count(prompt)

    def vocabulary(self) -> dict[str, Any] | None:
        """Return the ``tokenizer.ggml.*`` arrays, or None when there is no real vocabulary."""
        return None


@dataclass
class EmulatedModel:
    """One model the emulator knows, with the facts Ollama reports about it."""

    name: str
    architecture: str
    family: str
    context_length: int
    parameter_size: str
    parameter_count: int
    size: int
    capabilities: tuple[str, ...] = ("completion",)
    quantization_level: str = "Q4_K_M"
    embedding_length: int = 4096
    tokenizer_pre: str = "default"
    load_seconds: float = 2.0
    tokens_per_second: float = 50.0
    block_count: int = 32
    """Transformer layers (``<arch>.block_count``)."""
    head_count: int = 32
    """Attention heads (``<arch>.attention.head_count``)."""
    head_count_kv: int = 8
    """KV heads (``<arch>.attention.head_count_kv``; fewer than heads under GQA)."""
    key_length: int | None = None
    """Per-head key size; None: ``embedding_length / head_count`` (not reported then)."""
    value_length: int | None = None
    """Per-head value size; None: as ``key_length``."""
    template: str = "{{ .Prompt }}"
    """Its Go template (``/api/show`` ``template``), rendered over each request."""
    system: str = ""
    """Its default system prompt (``/api/show`` ``system``), added when a chat has none."""
    parameters: tuple[tuple[str, Any], ...] = ()
    """Its Modelfile parameters in order, e.g. ``(("stop", "<|eot_id|>"),)``."""
    file_type: int = 15
    """``general.file_type`` (15: Q4_K_M)."""
    present: bool = True
    """False: not on disk yet, but ``/api/pull`` can fetch it."""
    vocabulary: str | None = None
    """The real vocabulary it counts with ("llama3", "qwen2"); None: the regex stand-in."""
    message_overhead: int = 4
    """Tokens a stand-in model adds per message beyond its rendered template (0 for real ones)."""
    prompt_overhead: int = 1
    """Tokens a stand-in model adds per prompt beyond its rendered template (0 for real ones)."""
    tokenizer: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.tokenizer is None:
            from zero_llm.testing.vocabularies import vocab_tokenizer

            real = vocab_tokenizer(self.vocabulary, self.tokenizer_pre) if self.vocabulary else None
            self.tokenizer = real if real is not None else RegexTokenizer()

    @property
    def digest(self) -> str:
        """A stable sha256 digest derived from the name."""
        return hashlib.sha256(self.name.encode()).hexdigest()

    @property
    def thinks(self) -> bool:
        """Whether the model has the ``thinking`` capability."""
        return "thinking" in self.capabilities

    @property
    def embeds_only(self) -> bool:
        """Whether this is an embedding model that cannot chat."""
        return "embedding" in self.capabilities and "completion" not in self.capabilities

    def details(self) -> dict[str, Any]:
        """The ``details`` object of ``/api/tags``, ``/api/show`` and ``/api/ps``."""
        return {
            "parent_model": "",
            "format": "gguf",
            "family": self.family,
            "families": [self.family],
            "parameter_size": self.parameter_size,
            "quantization_level": self.quantization_level,
        }

    def model_info(self, verbose: bool) -> dict[str, Any]:
        """The ``model_info`` object of ``/api/show`` (arrays only when verbose)."""
        arch = self.architecture
        vocab = self.tokenizer.vocabulary() if verbose else None
        info: dict[str, Any] = {
            "general.architecture": arch,
            "general.parameter_count": self.parameter_count,
            "general.basename": self.name.split(":")[0],
            f"{arch}.context_length": self.context_length,
            f"{arch}.embedding_length": self.embedding_length,
            f"{arch}.block_count": self.block_count,
            f"{arch}.attention.head_count": self.head_count,
            f"{arch}.attention.head_count_kv": self.head_count_kv,
            "tokenizer.ggml.model": "gpt2",
            "tokenizer.ggml.pre": self.tokenizer_pre,
            "tokenizer.ggml.tokens": None,
            "tokenizer.ggml.token_type": None,
            "tokenizer.ggml.merges": None,
        }
        tokenizer = self.tokenizer
        if hasattr(tokenizer, "bos_token_id"):
            info["tokenizer.ggml.bos_token_id"] = tokenizer.bos_token_id
            info["tokenizer.ggml.eos_token_id"] = tokenizer.eos_token_id
            info["tokenizer.ggml.add_bos_token"] = tokenizer.add_bos_token
        info["general.file_type"] = self.file_type
        if self.key_length is not None:
            info[f"{arch}.attention.key_length"] = self.key_length
            info[f"{arch}.attention.value_length"] = self.value_length or self.key_length
        if vocab:
            info.update(vocab)
        return info

    @property
    def kv_elements_per_token(self) -> int:
        """KV cache elements per token: layers x KV heads x (key + value length)."""
        key = self.key_length or self.embedding_length // self.head_count
        value = self.value_length or key
        return self.block_count * self.head_count_kv * (key + value)

    @property
    def kv_bytes_per_token(self) -> int:
        """KV cache bytes per token at f16 (2 bytes an element)."""
        return 2 * self.kv_elements_per_token


LLAMA31_STOPS = ("<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>")
DEEPSEEK_R1_STOPS = tuple(
    f"<\uff5c{word}\uff5c>"
    for word in ("begin\u2581of\u2581sentence", "end\u2581of\u2581sentence", "User", "Assistant")
)


def _default_models() -> list[EmulatedModel]:
    return [
        EmulatedModel(
            name="deepseek-r1:32b",
            architecture="qwen2",
            family="qwen2",
            context_length=131072,
            parameter_size="32.8B",
            parameter_count=32763876352,
            size=19851337640,
            capabilities=("completion", "thinking"),
            embedding_length=5120,
            tokenizer_pre="deepseek-r1-qwen",
            vocabulary="qwen2",
            message_overhead=0,
            prompt_overhead=0,
            template=DEEPSEEK_R1_TEMPLATE,
            parameters=(
                *(("stop", s) for s in DEEPSEEK_R1_STOPS),
                ("temperature", 0.6),
                ("top_p", 0.95),
            ),
            load_seconds=12.0,
            tokens_per_second=25.0,
            block_count=64,
            head_count=40,
            head_count_kv=8,
        ),
        EmulatedModel(
            name="llama3.1:8b",
            architecture="llama",
            family="llama",
            context_length=131072,
            parameter_size="8.0B",
            parameter_count=8030261248,
            size=4920753328,
            capabilities=("completion", "tools"),
            embedding_length=4096,
            tokenizer_pre="llama-bpe",
            vocabulary="llama3",
            message_overhead=0,
            prompt_overhead=0,
            template=LLAMA31_TEMPLATE,
            parameters=tuple(("stop", s) for s in LLAMA31_STOPS),
            load_seconds=3.0,
            tokens_per_second=60.0,
            block_count=32,
            head_count=32,
            head_count_kv=8,
        ),
        EmulatedModel(
            name="qwen2.5-coder:32b",
            architecture="qwen2",
            family="qwen2",
            context_length=32768,
            parameter_size="32.8B",
            parameter_count=32763876352,
            size=19851336256,
            capabilities=("completion", "tools", "insert"),
            embedding_length=5120,
            tokenizer_pre="qwen2",
            vocabulary="qwen2",
            message_overhead=0,
            prompt_overhead=0,
            template=QWEN25_CODER_TEMPLATE,
            system=QWEN_SYSTEM,
            load_seconds=12.0,
            tokens_per_second=25.0,
            block_count=64,
            head_count=40,
            head_count_kv=8,
        ),
        EmulatedModel(
            name="nomic-embed-text:latest",
            architecture="nomic-bert",
            family="nomic-bert",
            context_length=2048,
            parameter_size="137M",
            parameter_count=136727040,
            size=274302450,
            capabilities=("embedding",),
            quantization_level="F16",
            file_type=1,
            embedding_length=768,
            load_seconds=0.5,
            tokens_per_second=5000.0,
            block_count=12,
            head_count=12,
            head_count_kv=12,
        ),
    ]


DEFAULT_EMULATED_MODELS: tuple[str, ...] = (
    "deepseek-r1:32b",
    "llama3.1:8b",
    "qwen2.5-coder:32b",
    "nomic-embed-text:latest",
)
"""Names of the models every emulator holds unless told otherwise."""


def default_models() -> list[EmulatedModel]:
    """Return fresh copies of the default emulated models."""
    return _default_models()


_WORDS = re.compile(r"\S+")


def gist(text: str, words: int = 24) -> str:
    """The first ``words`` words of a text (the emulator's answers quote it)."""
    found = _WORDS.findall(text)
    head = " ".join(found[:words])
    return head + (" ..." if len(found) > words else "")


def answer_for(model: str, messages: Sequence[dict[str, Any]]) -> str:
    """The emulator's deterministic answer: the model's name and the gist of the last user turn."""
    last = next((m for m in reversed(messages) if m.get("role") == "user"), None)
    said = gist(str(last.get("content") or "")) if last else ""
    return f"[{model}] You said: {said}"


def thinking_for(messages: Sequence[dict[str, Any]]) -> str:
    """The emulator's deterministic thinking text for a thinking model."""
    last = next((m for m in reversed(messages) if m.get("role") == "user"), None)
    said = gist(str(last.get("content") or ""), words=8) if last else ""
    return f"Let me think about this: {said}. I will answer plainly."


def embedding_for(text: str, dimensions: int) -> list[float]:
    """A deterministic L2-normalised embedding: hashed word counts."""
    vector = [0.0] * dimensions
    for word in _WORDS.findall(text.casefold()) or [""]:
        h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "big")
        vector[h % dimensions] += 1.0 if (h >> 32) & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]
