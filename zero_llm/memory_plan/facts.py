"""What the memory planner needs to know about one model, read from Ollama's own answers.

In: a model's ``/api/show`` ``model_info`` (``<arch>.block_count``,
``<arch>.attention.head_count_kv``, ``<arch>.attention.key_length`` / ``value_length``, or
``<arch>.embedding_length`` / ``<arch>.attention.head_count`` when those are absent,
``<arch>.context_length``) and its file size from ``/api/tags``. Out: ``ModelFacts`` — the
weights' bytes, the model's own context length and the KV-cache elements one token costs.
Pure: no I/O.

When ``model_info`` lacks the attention facts (an old Ollama, a stripped-down emulator), the
KV cost per token is estimated from the parameter count (``general.parameter_count``, else
the file size) as 128 KiB x sqrt(parameters / 8e9) at f16 — exact for Llama 3.1 8B and
Qwen2.5 32B, a slight over-estimate for larger GQA models — and the facts say so
(``estimated``), so the plan can tell the user it is a guess.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["ModelFacts"]

_ESTIMATE_BASE_ELEMENTS = 65536
"""KV elements per token of an 8B model with GQA (Llama 3.1 8B: 32 x 8 x (128 + 128))."""
_BYTES_PER_PARAMETER_Q4 = 0.6
"""About what a Q4_K_M file weighs per parameter, to guess a parameter count from a size."""


def _int(value: Any) -> int | None:
    """An int from a model_info value, or None when absent or not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def _per_layer(value: Any, layers: int) -> list[int] | None:
    """A per-layer list of head counts from an int or an array (Ollama reports both)."""
    if isinstance(value, list | tuple):
        counts = [_int(v) for v in value]
        if not counts or any(c is None for c in counts):
            return None
        return [c for c in counts if c is not None]
    count = _int(value)
    return None if count is None else [count] * layers


def _architecture(model_info: Mapping[str, Any]) -> str | None:
    """The ``general.architecture``, or the prefix of the first ``*.context_length`` key."""
    arch = model_info.get("general.architecture")
    if isinstance(arch, str) and arch:
        return arch
    for key in model_info:
        if key.endswith(".context_length") and not key.startswith("general."):
            return key.rsplit(".context_length", 1)[0]
    return None


@dataclass(frozen=True)
class ModelFacts:
    """The memory facts of one model: weights, own context length, KV cost per token."""

    name: str
    """Ollama model name with its tag."""
    weights_bytes: int
    """The model file's size (``/api/tags`` ``size``): what its weights take in memory."""
    context_length: int | None
    """The model's own context length (``<arch>.context_length``), None when unknown."""
    kv_elements_per_token: int
    """KV-cache elements one token costs over all layers: layers x KV heads x (K + V dims)."""
    estimated: bool = False
    """True when ``kv_elements_per_token`` is a guess from the parameter count."""

    def kv_bytes(self, num_ctx: int, *, bytes_per_element: float, num_parallel: int = 1) -> int:
        """Bytes of the KV cache for ``num_ctx`` tokens per slot and ``num_parallel`` slots."""
        return math.ceil(self.kv_elements_per_token * bytes_per_element * num_ctx * num_parallel)

    @classmethod
    def from_model_info(cls, name: str, model_info: Mapping[str, Any], size: int) -> ModelFacts:
        """Read the facts from ``/api/show`` ``model_info`` and the ``/api/tags`` size."""
        arch = _architecture(model_info)

        def get(key: str) -> Any:
            return model_info.get(f"{arch}.{key}") if arch else None

        context_length = _int(get("context_length"))
        layers = _int(get("block_count"))
        elements: int | None = None
        if layers:
            heads = _per_layer(get("attention.head_count"), layers)
            kv_heads = _per_layer(get("attention.head_count_kv"), layers) or heads
            embedding = _int(get("embedding_length"))
            max_heads = max(heads) if heads else None
            default_dim = embedding // max_heads if embedding and max_heads else None
            key_dim = _int(get("attention.key_length")) or default_dim
            value_dim = _int(get("attention.value_length")) or key_dim
            if kv_heads and key_dim and value_dim:
                elements = sum(h * (key_dim + value_dim) for h in kv_heads if h > 0)
        if elements is not None:
            return cls(name, int(size), context_length, elements)
        parameters = _int(model_info.get("general.parameter_count")) or int(
            size / _BYTES_PER_PARAMETER_Q4
        )
        guess = math.ceil(_ESTIMATE_BASE_ELEMENTS * math.sqrt(max(parameters, 1) / 8e9))
        return cls(name, int(size), context_length, guess, estimated=True)
