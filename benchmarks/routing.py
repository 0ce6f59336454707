"""Routing eval: accuracy per task and language, confusion matrix, misses, decision cost.

    python -m benchmarks.routing [--split validation --split validation_hard] [--second-stage]
    python -m benchmarks.routing --blind DIR [--blind DIR2] [--weights FILE]

Reads the ordinary validation split (``zero_llm/routing/data/validation``), written apart from
the training prompts, and then, reported separately, the hard validation split
(``validation_hard``: words in another sense, operations without code syntax, code about money,
small first questions), scored blind once before it joined. ``--second-stage`` also asks the
quick model (the emulator by default, or ``--ollama HOST``) about the prompts below 0.8
confidence and prints what that could add (the classifier's misses among them) and what it
costs; against the emulator its answers are placeholders, so only the latency means anything.

``--blind DIR`` scores a folder of ``analysis.txt``, ``code.txt``, ``quick.txt`` (one prompt a line,
``\n`` for a line break inside one) that is not in the repository, e.g. a blind set: per label,
per language (English, Hebrew, mixed: told apart by their letters), the confusion matrix and every
miss. ``--weights FILE`` scores another weights file than the shipped one.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
from pathlib import Path

from zero_llm.routing.classifier import CLASSES, load_model
from zero_llm.routing.dataset import DATA_DIR, Example, load_folder, load_split
from zero_llm.routing.evaluate import evaluate

SPLITS = ("validation", "validation_hard")
"""The splits reported by default, each apart."""
SECOND_STAGE_BELOW = 0.8
"""The second stage is asked about prompts whose confidence is below this."""


def report(split: str, examples: list[Example] | None = None, weights: Path | None = None) -> None:
    """Print the classifier's results on a split (or on ``examples``, named ``split``)."""
    result = evaluate(split, examples=examples, weights=weights)
    print(f"\nrouting classifier on the {split} split: {result.total} prompts")
    print(f"  overall  {result.accuracy:6.1%}")
    for task in result.by_task:
        right, count = result.by_task[task]
        print(f"  {task:9s}{right / count:6.1%}  ({right}/{count})")
    for lang in result.by_language:
        right, count = result.by_language[lang]
        print(f"  {lang:9s}{right / count:6.1%}  ({right}/{count})")
    if len(result.by_part) > 1:  # the writers' parts of the split, each apart
        for part, table in result.by_part.items():
            cells = "  ".join(
                f"{key} {table[key][0] / table[key][1]:.1%}"
                for key in (*CLASSES, "en", "he", "mixed")
                if key in table
            )
            right, count = table["all"]
            print(f"  part {part:10s} {right / count:6.1%} ({right}/{count})  {cells}")
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


async def second_stage(
    split: str, rows: list[Example], host: str | None, weights: Path | None = None
) -> None:
    """Print what a second stage could add on ``rows`` (named ``split``) and what it costs."""
    import ollama

    from zero_llm.routing.second_stage import ask_quick_model
    from zero_llm.testing import OllamaEmulator

    model = load_model(weights) if weights else load_model()
    doubtful = [e for e in rows if model.predict(e.text).confidence < SECOND_STAGE_BELOW]
    missed = sum(model.predict(e.text).label != e.task for e in doubtful)
    print(
        f"\nsecond stage on the {split} split: {len(doubtful)} of {len(rows)} prompts below "
        f"{SECOND_STAGE_BELOW:.2f}; the classifier misses {missed} of them, so a second stage "
        f"that is always right would add {missed / len(rows):.1%} and one that is wrong on "
        "them loses what the classifier got right"
    )
    emulator = None if host else OllamaEmulator().start()
    client = ollama.AsyncClient(host=host or emulator.base_url)  # type: ignore[union-attr]
    try:
        times, answered, right = [], 0, 0
        for example in doubtful:
            opinion = await ask_quick_model(client.chat, example.text, budget_s=2.0)
            times.append(opinion.seconds * 1000)
            if opinion.task is not None:
                answered += 1
                right += opinion.task == example.task
        print(f"  asked {'Ollama at ' + host if host else 'the emulator'}")
        if times:
            print(
                f"  added latency: median {statistics.median(times):.1f} ms, "
                f"max {max(times):.1f} ms"
            )
            print(f"  answered within budget: {answered}; agreed with the label: {right}")
    finally:
        if emulator is not None:
            emulator.stop()


def main(argv: list[str] | None = None) -> None:
    """Report the splits (or the ``--blind`` folders) from the command line."""
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--split", action="append", help="a split to report (default: validation, validation_hard)"
    )
    parser.add_argument(
        "--blind",
        action="append",
        type=Path,
        metavar="DIR",
        help="a folder of analysis.txt, code.txt, quick.txt to score (instead of the splits)",
    )
    parser.add_argument("--weights", type=Path, help="a weights file (default: the shipped one)")
    parser.add_argument("--second-stage", action="store_true")
    parser.add_argument("--ollama", default=None, help="a real Ollama host for the second stage")
    args = parser.parse_args(argv)
    sets = [(str(folder), load_folder(folder)) for folder in args.blind or ()]
    if args.split or not args.blind:  # a blind folder alone is scored alone
        splits = args.split or [s for s in SPLITS if (DATA_DIR / s).is_dir()]
        sets += [(split, load_split(split)) for split in splits]
    for name, rows in sets:
        report(name, rows, args.weights)
    if args.second_stage:
        for name, rows in sets:
            asyncio.run(second_stage(name, rows, args.ollama, args.weights))


if __name__ == "__main__":
    main()
