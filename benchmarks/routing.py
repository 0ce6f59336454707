"""Routing eval: accuracy per task and language, confusion matrix, misses, decision cost.

    python -m benchmarks.routing [--split validation] [--second-stage]

Reads the validation split (``zero_llm/routing/data/validation``), written apart from the
training prompts. ``--second-stage`` also asks the quick model (the emulator by default, or
``--ollama HOST``) about the prompts below the confidence threshold and prints what that
costs; against the emulator its answers are placeholders, so only the latency means anything.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics

from zero_llm.routing.classifier import CLASSES, classify
from zero_llm.routing.dataset import load_split
from zero_llm.routing.evaluate import evaluate


def report(split: str) -> None:
    result = evaluate(split)
    print(f"routing classifier on the {split} split: {result.total} prompts")
    print(f"  overall  {result.accuracy:6.1%}")
    for task in result.by_task:
        right, count = result.by_task[task]
        print(f"  {task:9s}{right / count:6.1%}  ({right}/{count})")
    for lang in result.by_language:
        right, count = result.by_language[lang]
        print(f"  {lang:9s}{right / count:6.1%}  ({right}/{count})")
    print(
        f"  below the confidence threshold: {result.low_confidence}; accuracy after the "
        f"low-confidence default: {result.routed_correct / result.total:.1%}"
    )
    print(f"\ncalibration (expected calibration error {result.calibration_error:.3f})")
    for low, high, count, confidence, accuracy in result.calibration:
        print(
            f"  confidence {low:.2f}-{high:.2f}: {count:4d} prompts, mean confidence "
            f"{confidence:.3f}, accuracy {accuracy:.3f}"
        )
    print("\nconfusion (rows expected, columns predicted)")
    print("           " + "".join(f"{c:>10s}" for c in CLASSES))
    for expected in CLASSES:
        row = "".join(f"{result.confusion.get((expected, p), 0):>10d}" for p in CLASSES)
        print(f"  {expected:9s}{row}")
    print(f"\nmisses ({len(result.misses)})")
    for miss in result.misses:
        text = miss.text.replace("\n", " ")[:90]
        print(
            f"  {miss.expected:>8s} -> {miss.predicted:8s} {miss.confidence:.2f} "
            f"[{miss.language}] {text}"
        )
    print(
        f"\ndecision time on each prompt met for the first time, by a fresh model (median of "
        f"5 passes each): p50 {result.p50_us:.1f} us, p99 {result.p99_us:.1f} us (goal "
        f"< 100 us: {'met' if result.p99_us < 100 else 'NOT met'}); p99 of every single "
        f"timing {result.raw_p99_us:.1f} us"
    )


async def second_stage(split: str, host: str | None) -> None:
    import ollama

    from zero_llm.routing.second_stage import ask_quick_model
    from zero_llm.testing import OllamaEmulator

    doubtful = [e for e in load_split(split) if classify(e.text).confidence < 0.8]
    emulator = None if host else OllamaEmulator().start()
    client = ollama.AsyncClient(host=host or emulator.base_url)  # type: ignore[union-attr]
    try:
        times, answered, right = [], 0, 0
        for example in doubtful:
            opinion = await ask_quick_model(client, example.text, budget_s=2.0)
            times.append(opinion.seconds * 1000)
            if opinion.task is not None:
                answered += 1
                right += opinion.task == example.task
        print(
            f"\nsecond stage on {len(doubtful)} prompts below 0.80 "
            f"({'Ollama' if host else 'emulator'})"
        )
        if times:
            print(
                f"  added latency: median {statistics.median(times):.1f} ms, "
                f"max {max(times):.1f} ms"
            )
            print(f"  answered within budget: {answered}; agreed with the label: {right}")
    finally:
        if emulator is not None:
            emulator.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--split", default="validation")
    parser.add_argument("--second-stage", action="store_true")
    parser.add_argument("--ollama", default=None, help="a real Ollama host for the second stage")
    args = parser.parse_args()
    report(args.split)
    if args.second_stage:
        asyncio.run(second_stage(args.split, args.ollama))


if __name__ == "__main__":
    main()
