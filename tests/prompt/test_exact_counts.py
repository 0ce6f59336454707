"""Exact prompt counts for the three models, against independent references.

The table: ten conversations x llama3.1:8b, qwen2.5-coder:32b, deepseek-r1:32b. For each,
the prompt our renderer writes equals the one Go's own ``text/template`` writes (the
templates, default system prompts and Ollama's rules as served), and our count equals
the count of that Go-rendered prompt by quicktok-v1's engine (and, for the Qwen
vocabulary, by a second engine over a second copy of the vocabulary), plus the BOS token
the model's vocabulary adds. Our counter is built the way the package builds it in use:
from the vocabulary arrays a server serves (``/api/show`` verbose).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.utils.function_calling import convert_to_openai_tool

from tests.prompt.references import (
    QWEN25_SPECIALS,
    R1_QWEN_SPECIALS,
    QuicktokReference,
    QwenFileReference,
    go_available,
    go_render,
)
from zero_llm.ollama.messages import to_ollama_messages
from zero_llm.prompt.ollama_prompt import chat_template, strip_think_tags
from zero_llm.testing.vocabularies import vocab_tokenizer
from zero_llm.tokens import ExactCounter, PromptShape, overhead_for_template
from zero_llm.vocab import encoding_from_gguf
from zero_llm.window import CUT_MARKER, WindowBudget, fit_messages

LIBRARY = json.loads(
    (Path(__file__).with_name("fixtures") / "ollama_library_templates.json").read_text()
)
CONTROL, USER_DEFINED = 3, 4

pytestmark = pytest.mark.skipif(
    not go_available(), reason="the Go toolchain (scripts/test.sh installs it)"
)


@dataclass(frozen=True)
class Model:
    name: str
    library: str
    vocabulary: str
    pre: str
    specials: tuple[str, ...]
    add_bos: bool
    think: bool | None


MODELS = {
    "llama3.1:8b": Model("llama3.1:8b", "llama3.1:8b", "llama3", "llama-bpe", (), True, None),
    "qwen2.5-coder:32b": Model(
        "qwen2.5-coder:32b", "qwen2.5-coder", "qwen2", "qwen2", QWEN25_SPECIALS, False, None
    ),
    "deepseek-r1:32b": Model(
        "deepseek-r1:32b", "deepseek-r1", "qwen2", "deepseek-r1-qwen", R1_QWEN_SPECIALS, True, True
    ),
}


@cache
def served_arrays(model: str) -> tuple[list[str], list[str], list[int]]:
    """The vocabulary arrays as a server serves them for ``model`` (GGUF layout)."""
    spec = MODELS[model]
    tokenizer = vocab_tokenizer(spec.vocabulary)
    assert tokenizer is not None, "the quicktok-v1 test dependency is missing"
    arrays = tokenizer.vocabulary()
    tokens = list(arrays["tokenizer.ggml.tokens"])
    types = list(arrays["tokenizer.ggml.token_type"])
    if spec.specials:  # Qwen2.5 and the R1 distill: ids 151643-151664, the rest padding
        for index in range(151643, len(tokens)):
            offset = index - 151643
            if offset < len(spec.specials):
                tokens[index], types[index] = spec.specials[offset], CONTROL
            else:
                tokens[index], types[index] = f"[PAD{index}]", USER_DEFINED
    return tokens, list(arrays["tokenizer.ggml.merges"]), types


@cache
def our_counter(model: str) -> ExactCounter:
    spec = MODELS[model]
    tokens, merges, types = served_arrays(model)
    encoding = encoding_from_gguf(model, tokens, merges, types, spec.pre)
    entry = LIBRARY["models"][spec.library]
    template = chat_template(entry["template"], entry["system"], model)
    shape = PromptShape(template, spec.add_bos, spec.think)
    return ExactCounter(encoding, overhead_for_template(entry["template"]), shape)


def reference_specials(model: str) -> tuple[str, ...]:
    spec = MODELS[model]
    if spec.specials:
        return spec.specials
    engine = QuicktokReference("llama3", ())
    return tuple(engine.engine.special_tokens_set)


@cache
def get_weather() -> dict[str, Any]:
    return convert_to_openai_tool(
        {
            "name": "get_weather",
            "description": "Current weather for a city, in Celsius.",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": "City name, e.g. Tel Aviv"},
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                },
                "required": ["city"],
            },
        }
    )


@cache
def get_price() -> dict[str, Any]:
    return convert_to_openai_tool(
        {
            "name": "get_price",
            "description": "Last price of a ticker <US or TASE> & its change.",
            "parameters": {
                "type": "object",
                "properties": {"ticker": {"type": "string"}, "days": {"type": "integer"}},
                "required": ["ticker"],
            },
        }
    )


def tool_turn() -> list[BaseMessage]:
    return [
        HumanMessage("What's the weather in Tel Aviv, and where is NVDA trading?"),
        AIMessage(
            "",
            tool_calls=[
                {"name": "get_weather", "args": {"city": "Tel Aviv", "unit": "celsius"}, "id": "c1"}
            ],
        ),
        ToolMessage('{"temp": 24.5, "sky": "clear"}', tool_call_id="c1", name="get_weather"),
    ]


CONVERSATIONS: dict[str, tuple[list[BaseMessage], bool]] = {
    "no system": ([HumanMessage("What is the capital of France?")], False),
    "system": (
        [SystemMessage("You are ZERO. Be brief."), HumanMessage("Is the yield curve inverted?")],
        False,
    ),
    "multi-turn with code": (
        [
            SystemMessage("You write Python."),
            HumanMessage("merge two sorted lists"),
            AIMessage("```python\ndef merge(a, b):\n    return sorted([*a, *b])\n```"),
            HumanMessage("now without sorted(), in O(n)\tplease"),
        ],
        False,
    ),
    "tools defined": ([HumanMessage("Weather in Haifa?")], True),
    "tool result last": (tool_turn(), True),
    "follow-up after tools": (
        [*tool_turn(), AIMessage("It is 24.5°C and clear."), HumanMessage("and NVDA?")],
        True,
    ),
    "Hebrew with direction marks": (
        [HumanMessage("שלום\u200f, מה המחיר של \u200eNVDA\u202c היום? \u200fתודה\u200e")],
        False,
    ),
    "emoji ZWJ sequences": (
        [HumanMessage("👨\u200d👩\u200d👧\u200d👦 family, 🏳️\u200d🌈 flag, 👩🏽\u200d💻 coder")],
        False,
    ),
    "CJK": ([HumanMessage("日本語のテキストと中文字符，还有한국어도 있어요。")], False),
    "earlier turn that thought": (
        [
            HumanMessage("Should I hedge my TA-35 exposure?"),
            AIMessage(
                "<think>\nThe user holds Israeli equities; consider puts.\n</think>\n\nBuy puts."
            ),
            HumanMessage("How many?"),
        ],
        False,
    ),
}


def go_case(model: str, messages: list[BaseMessage], tools: list[dict[str, Any]]) -> dict[str, Any]:
    """What the Go reference renders: the wire messages, Ollama's earlier-thinking rule applied."""
    spec = MODELS[model]
    entry = LIBRARY["models"][spec.library]
    wire = to_ollama_messages(messages)
    if spec.library == "deepseek-r1":  # filterThinkTags, checked on its own in test_gotemplate
        last_user = max(i for i, m in enumerate(wire) if m["role"] == "user")
        for message in wire[:last_user]:
            if message["role"] == "assistant":
                message["content"] = strip_think_tags(message["content"])
    return {
        "template": entry["template"],
        "system": entry["system"] or "",
        "messages": wire,
        "tools": tools or None,
        "think": spec.think,
    }


@pytest.fixture(scope="module")
def table() -> list[tuple[str, str, list[BaseMessage], list[dict[str, Any]], str]]:
    rows = []
    for model in MODELS:
        for name, (messages, with_tools) in CONVERSATIONS.items():
            tools = [get_weather(), get_price()] if with_tools else []
            rows.append((model, name, messages, tools))
    rendered = go_render([go_case(m, msgs, tools) for m, _, msgs, tools in rows])
    return [(*row, text) for row, text in zip(rows, rendered, strict=True)]


def test_our_rendering_equals_gos(table) -> None:  # type: ignore[no-untyped-def]
    for model, name, messages, tools, by_go in table:
        ours = our_counter(model).shape.template
        assert ours is not None
        rendered = ours.render(to_ollama_messages(messages), tools, MODELS[model].think)
        assert rendered == by_go, (model, name)


def test_every_count_equals_the_independent_reference(table) -> None:  # type: ignore[no-untyped-def]
    mismatches = []
    for model, name, messages, tools, by_go in table:
        spec = MODELS[model]
        reference = QuicktokReference(spec.vocabulary, reference_specials(model))
        expected = reference.count(by_go) + (1 if spec.add_bos else 0)
        ours = our_counter(model).count_prompt(messages, tools)
        if ours != expected:
            mismatches.append((model, name, ours, expected))
    assert not mismatches


def test_the_two_qwen_engines_agree(table) -> None:  # type: ignore[no-untyped-def]
    for model, _name, _messages, _tools, by_go in table:
        spec = MODELS[model]
        if spec.vocabulary != "qwen2":
            continue
        first = QuicktokReference("qwen2", spec.specials).count(by_go)
        assert QwenFileReference(spec.specials).count(by_go) == first


def test_tools_and_the_default_system_prompt_are_counted(table) -> None:  # type: ignore[no-untyped-def]
    counter = our_counter("qwen2.5-coder:32b")
    question = [HumanMessage("Weather in Haifa?")]
    bare = counter.count_prompt(question)
    with_tools = counter.count_prompt(question, [get_weather(), get_price()])
    own_system = counter.count_prompt([SystemMessage("x"), *question])
    assert with_tools - bare > 100  # two tool definitions are well over a hundred tokens
    default = LIBRARY["models"]["qwen2.5-coder"]["system"]  # "You are Qwen, created by ..."
    assert bare - own_system == counter.count_text(default) - counter.count_text("x") > 10


def test_deepseek_r1_splits_by_qwen2s_rule_and_keeps_every_character() -> None:
    counter = our_counter("deepseek-r1:32b")
    text = "שלום\u200f, מה \u200eNVDA\u202c? 👨\u200d👩\u200d👧"
    reference = QuicktokReference("qwen2", R1_QWEN_SPECIALS)
    assert counter.count_text(text) == reference.count(text)
    ids = counter.encoding.encode_ordinary(text)
    assert counter.encoding.decode(ids) == text


def test_thirty_tools_and_a_full_history_leave_the_answer_reserve_free() -> None:
    model = "qwen2.5-coder:32b"
    counter = our_counter(model)
    tools = [
        convert_to_openai_tool(
            {
                "name": f"tool_{i}",
                "description": f"Tool number {i}: reads the {i}th source of market data.",
                "parameters": {
                    "type": "object",
                    "properties": {"symbol": {"type": "string"}, "limit": {"type": "integer"}},
                    "required": ["symbol"],
                },
            }
        )
        for i in range(30)
    ]
    messages: list[BaseMessage] = [HumanMessage("Review my portfolio, step by step.")]
    for i in range(120):
        messages.append(
            AIMessage(
                "",
                tool_calls=[{"name": f"tool_{i % 30}", "args": {"symbol": "NVDA"}, "id": f"c{i}"}],
            )
        )
        messages.append(
            ToolMessage(f"row {i}: " + "price 187.44 volume 1200 " * 60, tool_call_id=f"c{i}")
        )
    budget = WindowBudget(32768, 2048, 64)
    fit = fit_messages(messages, counter, budget, tools)
    assert fit.dropped > 0 and isinstance(fit.messages[0], HumanMessage)
    (by_go,) = go_render([go_case(model, fit.messages, tools)])
    reference = QuicktokReference("qwen2", QWEN25_SPECIALS).count(by_go)
    assert reference == fit.prompt_tokens <= budget.prompt_tokens
    assert 32768 - reference >= 2048  # the answer's reserve is free by the reference count


texts = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300
) | st.lists(
    st.sampled_from(
        ["\u200d", "\u200e", "\u200f", "\u202c", "\u0301", "👩", "🏽", "שָׁ", "字", "\r", "\x00", " "]
    ),
    max_size=60,
).map("".join)


@settings(max_examples=200, deadline=None)
@given(text=texts)
def test_counting_and_cutting_never_alter_a_character(text: str) -> None:
    for model in MODELS:
        counter = our_counter(model)
        ids = counter.encoding.encode(text, allowed_special="all")
        assert counter.encoding.decode(ids) == text
        for room in (1, 5, 40):
            tail = counter.cut_to(text, room)
            assert text.endswith(tail) and counter.count_text(tail) <= room
            head = counter.cut_from_start(text, room)
            assert text.startswith(head) and counter.count_text(head) <= room
            middle = counter.cut_middle(text, room + 30, lambda n: CUT_MARKER.format(cut=n))
            if middle != text:
                before, _, after = middle.partition(CUT_MARKER.split("{cut}")[0])
                assert text.startswith(before)
                assert text.endswith(after.split(CUT_MARKER.split("{cut}")[1], 1)[1])


def test_servers_before_v0_14_render_tools_as_they_did() -> None:
    """Before Ollama v0.14.0 a template saw api.Tool, whose ``.Function`` printed as JSON."""
    question = [HumanMessage("Weather in Haifa?")]
    tools = [get_weather(), get_price()]
    for model in MODELS:
        spec = MODELS[model]
        entry = LIBRARY["models"][spec.library]
        case = {**go_case(model, question, tools), "legacy": True}
        (by_go,) = go_render([case])
        old = chat_template(entry["template"], entry["system"], model, server_version="0.12.6")
        assert old.render(to_ollama_messages(question), tools, spec.think) == by_go, model
        new = chat_template(entry["template"], entry["system"], model, server_version="0.14.0")
        if spec.library == "qwen2.5-coder":  # the one template that prints .Function
            assert '"function": {"name":"get_weather"' in by_go
            assert new.render(to_ollama_messages(question), tools, None) != by_go


def test_a_prompt_counted_again_is_the_same_count_and_any_change_is_seen() -> None:
    counter = our_counter("qwen2.5-coder:32b")
    messages, _ = CONVERSATIONS["tool result last"]
    tools = [get_weather(), get_price()]
    first = counter.count_prompt(messages, tools)
    assert counter.count_prompt(list(messages), tools) == first  # looked up
    changed = [*messages[:-1], messages[-1].model_copy(update={"content": "cold, 3 degrees"})]
    assert counter.count_prompt(changed, tools) != first
    assert counter.count_prompt(messages, tools[:1]) < first
    assert counter.count_prompt(messages) < first
