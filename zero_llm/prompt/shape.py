"""A model's prompt shape from what ``/api/show`` says: its template, system prompt, BOS.

In: the catalog's ``ModelSpec`` and the ``ShownModel`` Ollama served. Out: the
``PromptShape`` a counter renders prompts with. A template this package cannot render
exactly gives a shape without one (counts then estimate, erring high), logged once.
"""

from __future__ import annotations

import logging

from zero_llm.catalog import ModelSpec
from zero_llm.ollama.client import ShownModel
from zero_llm.prompt.gotemplate import TemplateError
from zero_llm.prompt.ollama_prompt import chat_template
from zero_llm.tokens import PromptShape
from zero_llm.vocab import LLAMA3_PRE_NAMES

__all__ = ["adds_bos", "prompt_shape"]

log = logging.getLogger(__name__)


def adds_bos(model_info: dict[str, object]) -> bool:
    """Whether llama.cpp puts the begin-of-text token before the prompt (as Ollama runs it)."""
    flag = model_info.get("tokenizer.ggml.add_bos_token")
    if isinstance(flag, bool):  # the vocabulary's own word beats the split rule's default
        return flag
    return model_info.get("tokenizer.ggml.pre") in LLAMA3_PRE_NAMES


def prompt_shape(
    spec: ModelSpec, facts: ShownModel, server_version: str | None = None
) -> PromptShape:
    """How Ollama frames this model's prompts (no template when it cannot be rendered)."""
    think = True if spec.think else None
    bos = adds_bos(facts.model_info)
    if not facts.template:
        return PromptShape(None, bos, think)
    try:
        template = chat_template(
            facts.template, facts.system, spec.name, facts.family, server_version
        )
    except TemplateError as exc:
        log.info(
            "counting %s's prompts by estimate: its template is not rendered (%s)",
            spec.name,
            exc,
        )
        return PromptShape(None, bos, think)
    return PromptShape(template, bos, think)
