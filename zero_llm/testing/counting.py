"""The emulator's ``prompt_eval_count``: the model's template rendered over the request, tokenized.

In: an emulated model, the request's messages, tools and ``think``, the loaded ``num_ctx`` and
whether Ollama may truncate. Out: the tokens Ollama evaluates, or ``RequestProblem`` (400) for a
prompt over the window when truncation is off. Its own path end to end (``prompts`` renders,
``vocabularies`` tokenizes): nothing of the zero_llm package is used.

Truncation follows Ollama's chatPrompt (v0.12.6): the longest suffix of messages that fits
``num_ctx``, with the system messages before it; the last message always kept; and when even
that is longer than ``num_ctx`` the runner keeps ``num_ctx`` tokens. Ollama renders once per
candidate suffix; the emulator renders the whole conversation first (nearly always it fits) and
otherwise finds the suffix by bisection, which gives the same answer because a longer suffix
never renders shorter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from zero_llm.testing.prompts import chat_messages, render_insert, render_messages
from zero_llm.testing.validation import RequestProblem

if TYPE_CHECKING:
    from zero_llm.testing.catalog import EmulatedModel

__all__ = ["count_prompt", "plan_prompt_tokens", "rendered_prompt"]


def rendered_prompt(
    model: EmulatedModel,
    messages: Sequence[dict[str, Any]],
    tools: Sequence[dict[str, Any]] = (),
    think: bool | str | None = None,
) -> str:
    """The prompt Ollama renders for a chat request to ``model`` (default system included)."""
    return render_messages(
        model.template, chat_messages(model.name, model.system, messages), tools, think
    )


def count_prompt(
    model: EmulatedModel,
    messages: Sequence[dict[str, Any]],
    tools: Sequence[dict[str, Any]] = (),
    think: bool | str | None = None,
) -> int:
    """Tokens of the rendered prompt, before any truncation."""
    prepared = chat_messages(model.name, model.system, messages)
    return _count(model, prepared, tools, think)


def _count(
    model: EmulatedModel,
    messages: Sequence[dict[str, Any]],
    tools: Sequence[dict[str, Any]],
    think: bool | str | None,
) -> int:
    prompt = render_messages(model.template, messages, tools, think)
    extra = model.prompt_overhead + model.message_overhead * len(messages)
    return int(model.tokenizer.count_prompt(prompt)) + extra


def plan_prompt_tokens(
    model: EmulatedModel,
    messages: Sequence[dict[str, Any]],
    num_ctx: int,
    truncate: bool,
    tools: Sequence[dict[str, Any]] = (),
    think: bool | str | None = None,
    template: str | None = None,
    suffix: str = "",
) -> int:
    """Tokens Ollama evaluates for this request, dropping old turns as Ollama does.

    ``template`` replaces the model's (``/api/generate``'s ``template``, or ``{{ .Prompt }}``
    for ``raw``); ``suffix`` makes it a fill-in-the-middle prompt of the last message.
    """
    if template is not None:
        model = replace(model, template=template, tokenizer=model.tokenizer)
    prompt = str(messages[-1].get("content") or "") if messages else ""
    if suffix and prompt:
        tokens = int(model.tokenizer.count_prompt(render_insert(model.template, prompt, suffix)))
        if tokens > num_ctx and not truncate:
            raise RequestProblem(
                400, f"the input length ({tokens} tokens) exceeds the context length ({num_ctx})"
            )
        return min(tokens, num_ctx)
    prepared = chat_messages(model.name, model.system, messages)
    total = _count(model, prepared, tools, think)
    if total <= num_ctx:
        return total
    if not truncate:
        raise RequestProblem(
            400, f"the input length ({total} tokens) exceeds the context length ({num_ctx})"
        )

    def suffix_count(start: int) -> int:
        system = [m for m in prepared[:start] if m.get("role") == "system"]
        return _count(model, [*system, *prepared[start:]], tools, think)

    last = len(prepared) - 1
    if last == 0:
        return num_ctx
    low, high = 1, last  # the smallest start in [low, high] whose suffix fits, else last
    while low < high:
        middle = (low + high) // 2
        if suffix_count(middle) <= num_ctx:
            high = middle
        else:
            low = middle + 1
    return min(suffix_count(low), num_ctx)
