"""ZERO's three models as Ollama describes them (model_info of real /api/show answers)."""

from __future__ import annotations

from zero_llm.memory_plan import ModelDemand, ModelFacts

GiB = 1024**3


def qwen2_info(context_length: int) -> dict[str, object]:
    """model_info of a Qwen2.5 32B (and the DeepSeek-R1 distill on it)."""
    return {
        "general.architecture": "qwen2",
        "general.parameter_count": 32763876352,
        "qwen2.block_count": 64,
        "qwen2.attention.head_count": 40,
        "qwen2.attention.head_count_kv": 8,
        "qwen2.context_length": context_length,
        "qwen2.embedding_length": 5120,
    }


LLAMA_INFO: dict[str, object] = {
    "general.architecture": "llama",
    "general.parameter_count": 8030261248,
    "llama.block_count": 32,
    "llama.attention.head_count": 32,
    "llama.attention.head_count_kv": 8,
    "llama.attention.key_length": 128,
    "llama.attention.value_length": 128,
    "llama.context_length": 131072,
    "llama.embedding_length": 4096,
}

DEEPSEEK = ModelFacts.from_model_info("deepseek-r1:32b", qwen2_info(131072), 19851337640)
CODER = ModelFacts.from_model_info("qwen2.5-coder:32b", qwen2_info(32768), 19851336256)
LLAMA = ModelFacts.from_model_info("llama3.1:8b", LLAMA_INFO, 4920753328)


def zero_demands() -> list[ModelDemand]:
    """ZERO's catalog: reasoning, code, quick."""
    return [
        ModelDemand(DEEPSEEK, "reasoning"),
        ModelDemand(CODER, "code"),
        ModelDemand(LLAMA, "quick"),
    ]
