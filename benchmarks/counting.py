"""Benchmark: count a 128K-token agent conversation with 30 tools, exactly, warm and cold.

The exact count renders the model's own template over the messages and the tools (as
Ollama does) and counts the rendered text, each piece between special tokens looked up
in a cache once it has been counted; a prompt counted again is looked up whole, and a
prompt with one message more renders only that message anew. The baseline is the
counter before it (round 2): a fixed frame per message plus each message's cached
content count, tools not counted at all. Prints the best of several repetitions and
the ratios; no verdicts.

    python -m benchmarks.counting
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.utils.function_calling import convert_to_openai_tool

from benchmarks.window import timed
from zero_llm.prompt.ollama_prompt import chat_template
from zero_llm.testing.vocabularies import vocab_tokenizer
from zero_llm.tokens import ExactCounter, PromptShape, overhead_for_template

FIXTURES = Path(__file__).parents[1] / "tests" / "prompt" / "fixtures"
LIBRARY = FIXTURES / "ollama_library_templates.json"


def conversation(rounds: int) -> list[BaseMessage]:
    out: list[BaseMessage] = [
        SystemMessage("You are ZERO's coding agent."),
        HumanMessage("Find why the settlement job double-books trades and fix it."),
    ]
    for i in range(rounds):
        call = {"name": f"tool_{i % 30}", "args": {"path": f"src/module_{i}.py"}, "id": f"c{i}"}
        out.append(AIMessage(f"Reading module {i}.", tool_calls=[call]))
        body = "".join(f"    line_{j} = settle(trade_{j}, book={i})\n" for j in range(45))
        out.append(ToolMessage(f"# module {i}\ndef run():\n{body}", tool_call_id=f"c{i}"))
    return out


def tools() -> list[dict[str, object]]:
    return [
        convert_to_openai_tool(
            {
                "name": f"tool_{i}",
                "description": f"Reads source file number {i} of the repository.",
                "parameters": {
                    "type": "object",
                    "properties": {"path": {"type": "string"}, "lines": {"type": "integer"}},
                    "required": ["path"],
                },
            }
        )
        for i in range(30)
    ]


REPEAT = 7
"""Repetitions of each timed count (best and median)."""


def main() -> None:
    entry = json.loads(LIBRARY.read_text())["models"]["qwen2.5-coder"]
    tokenizer = vocab_tokenizer("qwen2")
    assert tokenizer is not None, "install quicktok-v1 for the Qwen vocabulary"
    template = chat_template(entry["template"], entry["system"], "qwen2.5-coder:32b")
    overhead = overhead_for_template(entry["template"])
    exact = ExactCounter(tokenizer.encoding, overhead, PromptShape(template, False, None))
    baseline = ExactCounter(tokenizer.encoding, overhead)
    messages, schemas = conversation(150), tools()

    started = time.perf_counter()
    total = exact.count_prompt(messages, schemas)
    cold = time.perf_counter() - started
    baseline.count_messages(messages)  # warm the baseline's cache too

    def old() -> int:
        return overhead.per_prompt + sum(baseline.count_messages(messages))

    new_best, new_median = timed(lambda: exact.count_prompt(messages, schemas), REPEAT)
    grown = iter(range(10**6))

    def one_more() -> int:  # the next step of the loop: one more message, rendered
        return exact.count_prompt([*messages, HumanMessage(f"step {next(grown)}")], schemas)

    step_best, step_median = timed(one_more, REPEAT)
    old_best, old_median = timed(old, REPEAT)
    print(f"{len(messages)} messages + 30 tools = {total:,} tokens exactly (old count: {old():,})")
    print(f"exact count, cold: {cold * 1000:8.1f} ms")
    print(
        f"exact count, warm: {new_best * 1000:8.1f} ms best, {new_median * 1000:.1f} ms median"
        " (the same prompt again: looked up)"
    )
    print(
        f"exact count, one message more: {step_best * 1000:.1f} ms best, "
        f"{step_median * 1000:.1f} ms median (rendered; earlier messages' text reused)"
    )
    print(f"round-2 count, warm: {old_best * 1000:6.1f} ms best, {old_median * 1000:.1f} ms median")
    print(
        f"ratio warm exact / round-2: {new_best / old_best:.2f}x; "
        f"one message more / round-2: {step_best / old_best:.2f}x"
    )


if __name__ == "__main__":
    main()
