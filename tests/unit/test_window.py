"""Trimming to the window, exact counts from served vocabularies, and safe estimates."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage

from zero_llm import ContextOverflowError
from zero_llm.testing.vocabularies import vocab_tokenizer
from zero_llm.tokens import (
    TEMPLATE_OVERHEADS,
    EstimatingCounter,
    ExactCounter,
    overhead_for_template,
)
from zero_llm.vocab import UnsupportedVocabularyError, encoding_from_gguf
from zero_llm.window import WindowBudget, fit_messages

SAMPLES = [
    "The quick brown fox jumps over the lazy dog.",
    "שלום! מה המצב של תיק ההשקעות שלי היום? האם כדאי למכור את המניות?",
    "Rockets 🚀🚀 and fire 🔥 with a thumbs up 👍 — émigré café",
    "def merge(a, b):\n    return sorted([*a, *b], key=lambda x: (x[0], -x[1]))  # O(n log n)\n",
    '{"ticker": "$AAPL", "price": 187.44, "change": -0.0123}',
    "",
]


@pytest.fixture(scope="module")
def llama_counter() -> ExactCounter:
    tokenizer = vocab_tokenizer("llama3")
    assert tokenizer is not None, "the quicktok-v1 test dependency is missing"
    return ExactCounter(tokenizer.encoding, TEMPLATE_OVERHEADS["llama3"])


def served_encoding(name: str):  # type: ignore[no-untyped-def]
    tokenizer = vocab_tokenizer(name)
    assert tokenizer is not None
    arrays = tokenizer.vocabulary()
    return tokenizer, encoding_from_gguf(
        f"served-{name}",
        arrays["tokenizer.ggml.tokens"],
        arrays["tokenizer.ggml.merges"],
        arrays["tokenizer.ggml.token_type"],
        tokenizer.pre,
    )


@pytest.mark.parametrize("name", ["llama3", "qwen2"])
def test_an_encoding_built_from_served_arrays_tokenizes_like_the_original(name: str) -> None:
    reference, built = served_encoding(name)
    for text in SAMPLES:
        ours = built.decode_tokens_bytes(built.encode_ordinary(text))
        theirs = reference.encoding.decode_tokens_bytes(reference.encoding.encode_ordinary(text))
        assert ours == theirs, text
        assert built.decode(built.encode_ordinary(text)) == text


def test_vocabulary_files_are_checked_against_known_ids() -> None:
    llama, qwen = vocab_tokenizer("llama3"), vocab_tokenizer("qwen2")
    assert llama is not None and qwen is not None
    assert llama.encoding.encode_ordinary("Hello world") == [9906, 1917]
    assert qwen.encoding.encode_ordinary("Hello world") == [9707, 1879]


def test_unusable_vocabularies_are_refused() -> None:
    with pytest.raises(UnsupportedVocabularyError, match="pre-tokenizer"):
        encoding_from_gguf("x", ["a"], ["a b"], None, "mystery")
    with pytest.raises(UnsupportedVocabularyError, match="no tokens"):
        encoding_from_gguf("x", [], None, None, "llama-bpe")
    with pytest.raises(UnsupportedVocabularyError, match="256 single bytes"):
        encoding_from_gguf("x", ["a", "b"], ["a b"], None, "llama-bpe")


@pytest.mark.parametrize("name", ["llama3", "qwen2"])
def test_the_estimate_errs_on_the_side_of_more_tokens(name: str) -> None:
    tokenizer = vocab_tokenizer(name)
    assert tokenizer is not None
    estimate = EstimatingCounter(TEMPLATE_OVERHEADS["unknown"])
    for text in SAMPLES:
        assert estimate.count_text(text) >= tokenizer.count(text), text


def test_the_estimate_calibrates_upwards_at_once_and_downwards_slowly() -> None:
    estimate = EstimatingCounter(TEMPLATE_OVERHEADS["unknown"])
    before = estimate.count_text("x" * 1000)
    estimate.observe(counted=100, reported=150)
    assert estimate.count_text("x" * 1000) >= before * 1.5
    estimate.observe(counted=100, reported=10)  # a prompt served from Ollama's cache
    assert estimate.scale >= 1.5
    for _ in range(40):
        estimate.observe(counted=100, reported=50)
    assert 0.5 <= estimate.scale < 1.0


def test_template_families() -> None:
    assert overhead_for_template("<|start_header_id|>{{ .Role }}").family == "llama3"
    assert overhead_for_template("<|im_start|>system").family == "chatml"
    assert overhead_for_template("<\uff5cUser\uff5c>{{ .Content }}").family == "deepseek"
    assert overhead_for_template(None).family == "unknown"


def conversation(turns: int, words: int = 40) -> list[BaseMessage]:
    messages: list[BaseMessage] = [SystemMessage("You are ZERO. Be precise.")]
    for i in range(turns):
        messages.append(HumanMessage(f"question {i} " + "lorem ipsum " * words))
        messages.append(AIMessage(f"answer {i} " + "dolor sit amet " * words))
    messages.append(HumanMessage("the final question"))
    return messages


def test_short_prompts_pass_untouched(llama_counter: ExactCounter) -> None:
    messages = conversation(3)
    fit = fit_messages(messages, llama_counter, WindowBudget(131072, 2048, 64))
    assert fit.messages == messages and fit.dropped == 0 and not fit.cut
    assert fit.prompt_tokens == llama_counter.count_prompt(messages)


def test_keeps_system_question_and_the_newest_turns_in_order(
    llama_counter: ExactCounter,
) -> None:
    messages = conversation(60)
    budget = WindowBudget(4096, 1024, 64)
    fit = fit_messages(messages, llama_counter, budget)
    assert fit.messages[0] == messages[0] and fit.messages[-1] == messages[-1]
    kept = fit.messages[1:-1]
    assert kept == messages[len(messages) - 1 - len(kept) : -1]  # the newest, in order
    assert llama_counter.count_prompt(fit.messages) == fit.prompt_tokens <= budget.prompt_tokens
    assert fit.dropped == 120 - len(kept) > 0


def test_tool_rounds_are_kept_or_dropped_whole(llama_counter: ExactCounter) -> None:
    call = AIMessage("", tool_calls=[{"name": "quote", "args": {"t": "SPY"}, "id": "c1"}])
    messages: list[BaseMessage] = [
        SystemMessage("rules"),
        HumanMessage("old " * 300),
        HumanMessage("price of SPY?"),
        call,
        ToolMessage("512.3 " * 40, tool_call_id="c1"),
        AIMessage("SPY is at 512.3"),
        HumanMessage("and now?"),
    ]
    base = llama_counter.count_prompt([messages[0], messages[-1]])
    tail = sum(llama_counter.count_message(m) for m in messages[3:6])
    budget = WindowBudget(base + tail + 2 + 1000, 1000, 0)  # fits the tool round, not its ask
    fit = fit_messages(messages, llama_counter, budget)
    assert fit.messages == [messages[0], *messages[3:]]
    assert fit.dropped == 2 and fit.dropped_rounds == 0


def test_the_task_stays_and_the_oldest_rounds_go(llama_counter: ExactCounter) -> None:
    messages: list[BaseMessage] = [
        SystemMessage("You are a coding agent."),
        HumanMessage("fix the bug"),
    ]
    for i in range(4):
        messages.append(
            AIMessage("", tool_calls=[{"name": "read", "args": {"i": i}, "id": f"r{i}"}])
        )
        messages.append(ToolMessage(f"file {i} " + "line of code\n" * 300, tool_call_id=f"r{i}"))
    one_round = llama_counter.count_prompt(messages[:4]) - llama_counter.count_prompt(messages[:2])
    budget = WindowBudget(llama_counter.count_prompt(messages) - one_round // 2 + 100, 100, 0)
    fit = fit_messages(messages, llama_counter, budget)
    assert fit.messages == [*messages[:2], *messages[4:]]  # round 0 dropped whole, task kept
    assert fit.dropped == 2 and fit.dropped_rounds == 1


def test_an_oversized_tool_result_is_cut_in_the_middle(llama_counter: ExactCounter) -> None:
    result = "BEGIN " + "report line. " * 3000 + " END"
    messages: list[BaseMessage] = [
        SystemMessage("rules"),
        HumanMessage("summarise the report"),
        AIMessage("", tool_calls=[{"name": "fetch", "args": {}, "id": "f"}]),
        ToolMessage(result, tool_call_id="f"),
    ]
    budget = WindowBudget(2048, 512, 32)
    fit = fit_messages(messages, llama_counter, budget)
    assert fit.cut and fit.dropped == 0 and fit.cut_messages == [3]
    cut = fit.messages[3].text
    head, _, rest = cut.partition("\n[... ")
    assert result.startswith(head) and head.startswith("BEGIN")
    assert "tokens of this tool result were cut here" in rest
    assert result.endswith(rest.split("...]\n", 1)[1]) and cut.endswith(" END")
    assert llama_counter.count_prompt(fit.messages) == fit.prompt_tokens <= budget.prompt_tokens


def test_overflow_names_the_numbers(llama_counter: ExactCounter) -> None:
    messages = [SystemMessage("context " * 5000), HumanMessage("question")]
    with pytest.raises(ContextOverflowError) as info:
        fit_messages(messages, llama_counter, WindowBudget(4096, 1024, 64))
    assert info.value.budget == 4096 - 1024 - 64
    assert info.value.needed is not None and info.value.needed > 5000
    assert str(info.value.needed) in str(info.value) and "4096" in str(info.value)


roles = st.sampled_from(["human", "ai", "tool_turn"])
texts = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=400)


def build(history: list[tuple[str, str]], question: str) -> list[BaseMessage]:
    messages: list[BaseMessage] = [SystemMessage("system rules")]
    for i, (kind, text) in enumerate(history):
        if kind == "human":
            messages.append(HumanMessage(text))
        elif kind == "ai":
            messages.append(AIMessage(text))
        else:
            call_id = f"call{i}"
            messages.append(AIMessage("", tool_calls=[{"name": "f", "args": {}, "id": call_id}]))
            messages.append(ToolMessage(text, tool_call_id=call_id))
    messages.append(HumanMessage(question or "?"))
    return messages


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    history=st.lists(st.tuples(roles, texts), max_size=40),
    question=texts,
    num_ctx=st.integers(min_value=300, max_value=6000),
)
def test_fitting_properties(
    llama_counter: ExactCounter, history: list[tuple[str, str]], question: str, num_ctx: int
) -> None:
    messages = build(history, question)
    budget = WindowBudget(num_ctx, 128, 16)
    try:
        fit = fit_messages(messages, llama_counter, budget)
    except ContextOverflowError as error:
        fixed = llama_counter.count_prompt([messages[0], messages[-1]])
        assert error.needed == fixed > budget.prompt_tokens
        return
    assert llama_counter.count_prompt(fit.messages) == fit.prompt_tokens <= budget.prompt_tokens
    assert fit.messages[0] is messages[0] and fit.messages[-1] is messages[-1]
    middle = fit.messages[1:-1]
    assert not fit.cut  # the question is human: nothing here is a tool result to cut
    originals = messages[1:-1]
    assert middle == originals[len(originals) - len(middle) :]  # the newest, in order
    for index, message in enumerate(middle):  # rounds whole: every result has its call
        if isinstance(message, ToolMessage):
            assert index > 0 and isinstance(middle[index - 1], AIMessage | ToolMessage)
    assert fit.dropped + len(middle) == len(messages) - 2
