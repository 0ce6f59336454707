"""Benchmark: fit a ~150K-token history into a 128K window.

zero_llm's ``fit_messages`` (warm: counts known, as the history store keeps them; and
cold: nothing counted yet) against LangChain's ``trim_messages`` with a tiktoken counter
(the same Llama 3 vocabulary), in one run, for 200, 2,000 and 20,000 messages. Prints
the best of several repetitions, one plain tiktoken pass over the text for scale, and
the ratios to ``trim_messages``. Not a test: numbers, no verdicts.

    python benchmarks/window.py
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.messages.utils import trim_messages

from zero_llm.testing.vocabularies import vocab_tokenizer
from zero_llm.tokens import TEMPLATE_OVERHEADS, ExactCounter
from zero_llm.window import WindowBudget, fit_messages

TOTAL_TOKENS = 150_000
NUM_CTX = 131_072


def history(messages: int) -> list[BaseMessage]:
    words = max(1, TOTAL_TOKENS // messages - 6)
    out: list[BaseMessage] = [SystemMessage("You are ZERO, a trading assistant.")]
    for i in range(messages):
        text = f"turn {i}: " + "price volume trend " * (words // 3)
        out.append(HumanMessage(text) if i % 2 == 0 else AIMessage(text))
    out.append(HumanMessage("What should I do now?"))
    return out


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return min(samples), statistics.median(samples)


def main() -> None:
    tokenizer = vocab_tokenizer("llama3")
    assert tokenizer is not None, "install quicktok-v1 for the Llama 3 vocabulary"
    encoding = tokenizer.encoding
    overhead = TEMPLATE_OVERHEADS["llama3"]
    budget = WindowBudget(NUM_CTX, 2048, 64)

    def tiktoken_counter(messages: list[BaseMessage]) -> int:
        return sum(
            overhead.per_message + len(encoding.encode_ordinary(str(m.content))) for m in messages
        )

    print(f"fit {TOTAL_TOKENS:,} tokens into {budget.prompt_tokens:,} (num_ctx {NUM_CTX:,})")
    print(
        f"{'messages':>9} {'ours warm':>12} {'ours cold':>12} {'1 tiktoken pass':>16} "
        f"{'trim_messages':>14} {'warm x':>9} {'cold x':>8}"
    )
    for size in (200, 2_000, 20_000):
        messages = history(size)
        warm_counter = ExactCounter(encoding, overhead)
        counts = [warm_counter.count_message(m) for m in messages]
        warm, _ = timed(lambda: fit_messages(messages, warm_counter, budget, counts), 20)

        def cold() -> None:
            fit_messages(messages, ExactCounter(encoding, overhead), budget)

        cold_min, _ = timed(cold, 3)
        one_pass, _ = timed(lambda: [encoding.encode_ordinary(m.text) for m in messages], 3)
        base_min, _ = timed(
            lambda: trim_messages(
                messages,
                max_tokens=budget.prompt_tokens,
                token_counter=tiktoken_counter,
                strategy="last",
                include_system=True,
                start_on="human",
            ),
            3 if size < 20_000 else 1,
        )
        print(
            f"{size:>9,} {warm * 1e3:>10.3f}ms {cold_min * 1e3:>10.1f}ms "
            f"{one_pass * 1e3:>14.1f}ms {base_min * 1e3:>12.1f}ms "
            f"{base_min / warm:>8.0f}x {base_min / cold_min:>7.1f}x"
        )


if __name__ == "__main__":
    main()
