"""Train the routing classifier and write its weights: ``python -m zero_llm.routing.train``.

In: the training split (``zero_llm/routing/data/train``, every writer's folder included). Out:
``zero_llm/routing/weights.json`` (or ``--out``), the file ``zero_llm.routing.classifier`` reads;
with ``--cv N``, cross-validation figures instead (how the settings here were chosen).

A multinomial logistic regression over the features of ``zero_llm.routing.features``
(the text's distinct words and their first and last three letters, those met in training,
scaled by one over the square root of the number of distinct words, plus the structure
features), fitted by full-batch Adam from zero weights and stopped early (``STEPS``):
deterministic, no random state at all. The temperature that calibrates its probabilities is
fitted on out-of-fold scores (5 folds, assigned by a seeded shuffle).
Needs numpy (``pip install 'zero-llm[train]'``); the shipped package does not.
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import random
import zlib
from array import array
from pathlib import Path
from typing import Any

from zero_llm.routing.classifier import CLASSES, WEIGHTS_FILE
from zero_llm.routing.dataset import Example, load_split
from zero_llm.routing.features import (
    DENSE_KINDS,
    SPARSE_FEATURES,
    Evidence,
    extract,
    sparse_counts,
    token_features,
)

__all__ = ["cross_validate", "main", "train"]

SEED = 11
STEPS = 80
"""Adam steps from zero weights. Stopping early is the regulariser: with each later writer held
out of training in turn (and a small L2 penalty), 60-100 steps gave 92.0-92.6%, 200 steps
91.0%, 400 steps 90.9%; at 80 steps without the penalty, 93.2%."""
LEARNING_RATE = 0.05
SPARSE_L2 = 0.0
DENSE_L2 = 0.0
"""L2 penalties (none: at 80 steps penalties of 3e-6 / 1e-4 cost 0.5-1.0 points held out)."""
FOLDS = 5
DENSE_SCALE = 1.5
"""The structure features are fitted scaled by this (their weights are stored scaled back, so
the classifier reads the evidence as it is): Adam moves every weight by about the same step, so a
larger scale lets the few structure features weigh more against the many word features. With
each writer held out: 1.0 gave 95.1%, 1.5 96.0%, 2.0 95.8%, 3.0 95.6%, 5.0 95.1% (five folds:
95.6%, 95.8%, 95.9%)."""


Read = tuple[Evidence, int]
"""One training prompt as read once: its evidence and its class index."""


def _read(examples: list[Example]) -> list[Read]:
    """Extract each prompt's evidence once, for every fold that uses it."""
    return [(extract(e.text), CLASSES.index(e.task)) for e in examples]


def _vocabulary(rows: list[Read]) -> dict[str, int]:
    """Feature -> column for every sparse feature of ``rows``, in order of appearance."""
    columns: dict[str, int] = {}
    for evidence, _ in rows:
        for token in evidence.tokens:
            for feature in token_features(token):
                columns.setdefault(feature, len(columns))
    return columns


def _design(rows: list[Read], columns: dict[str, int]) -> tuple[Any, ...]:
    """Sparse rows (row ids, columns, values), the dense matrix, the labels and the width.

    A text's features are those of its distinct words (a repeated word counts once), scaled
    by one over the square root of their number.
    Features without a column weigh nothing, as they do when the classifier meets them.
    """
    import numpy as np

    row_ids: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    dense = np.zeros((len(rows), len(DENSE_KINDS)))
    for i, (evidence, _) in enumerate(rows):
        words = tuple(dict.fromkeys(evidence.tokens))
        norm = 1.0 / math.sqrt(len(words)) if words else 0.0
        for feature, count in sparse_counts(words).items():
            column = columns.get(feature)
            if column is not None:
                row_ids.append(i)
                cols.append(column)
                vals.append(count * norm)
        dense[i] = evidence.dense
    dense *= DENSE_SCALE
    labels = np.array([label for _, label in rows])
    return (
        np.array(row_ids, dtype=int),
        np.array(cols, dtype=int),
        np.array(vals),
        dense,
        labels,
        len(columns),
    )


def _fit(design: tuple[Any, ...], steps: int = STEPS) -> tuple[Any, Any, Any]:
    """Fit (sparse weights, dense weights, bias) by full-batch Adam.

    Weighing the later writers' prompts (the hard kinds) 2 or 3 times in the loss was measured
    too: no better with writers held out (92.8% and 92.6% against 93.2%).
    """
    import numpy as np

    rows, cols, vals, dense, labels, width = design
    n, k = len(labels), len(CLASSES)
    onehot = np.eye(k)[labels]
    params = [np.zeros((width, k)), np.zeros((dense.shape[1], k)), np.zeros(k)]
    moments = [np.zeros_like(p) for p in params]
    squares = [np.zeros_like(p) for p in params]
    for step in range(1, steps + 1):
        sparse_w, dense_w, bias = params
        scores = _sparse_scores(rows, cols, vals, sparse_w, n) + dense @ dense_w + bias
        scores -= scores.max(axis=1, keepdims=True)
        probs = np.exp(scores)
        probs /= probs.sum(axis=1, keepdims=True)
        error = (probs - onehot) / n
        grad_sparse = np.stack(
            [np.bincount(cols, vals * error[rows, c], width) for c in range(k)], axis=1
        )
        grads = [
            grad_sparse + 2 * SPARSE_L2 * sparse_w,
            dense.T @ error + 2 * DENSE_L2 * dense_w,
            error.sum(axis=0),
        ]
        for i, grad in enumerate(grads):
            moments[i] = 0.9 * moments[i] + 0.1 * grad
            squares[i] = 0.999 * squares[i] + 0.001 * grad * grad
            m_hat = moments[i] / (1 - 0.9**step)
            v_hat = squares[i] / (1 - 0.999**step)
            params[i] = params[i] - LEARNING_RATE * m_hat / (np.sqrt(v_hat) + 1e-8)
    return params[0], params[1], params[2]


def _scores(design: tuple[Any, ...], weights: tuple[Any, Any, Any]) -> Any:

    rows, cols, vals, dense, labels, _ = design
    sparse_w, dense_w, bias = weights
    return _sparse_scores(rows, cols, vals, sparse_w, len(labels)) + dense @ dense_w + bias


def _sparse_scores(rows: Any, cols: Any, vals: Any, sparse_w: Any, n: int) -> Any:
    import numpy as np

    return np.stack(
        [np.bincount(rows, vals * sparse_w[cols, c], n) for c in range(sparse_w.shape[1])],
        axis=1,
    )


def _temperature(scores: Any, labels: Any) -> float:
    """The temperature that minimises the log loss of out-of-fold scores."""
    import numpy as np

    best, best_loss = 1.0, math.inf
    for t in np.arange(0.2, 4.0, 0.05):
        z = scores / t
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        loss = -logp[np.arange(len(labels)), labels].mean()
        if loss < best_loss:
            best, best_loss = float(t), float(loss)
    return best


def _subset(rows: list[Read], keep: set[int]) -> list[Read]:
    return [row for i, row in enumerate(rows) if i in keep]


def train(examples: list[Example], *, steps: int = STEPS) -> dict[str, Any]:
    """Fit the model on ``examples``; return the weights file's content."""
    import numpy as np

    read = _read(examples)
    order = list(range(len(examples)))
    random.Random(SEED).shuffle(order)
    folds = [set(order[f::FOLDS]) for f in range(FOLDS)]
    held_scores: list[Any] = []
    held_labels: list[Any] = []
    for fold in folds:
        rest = _subset(read, set(range(len(read))) - fold)
        vocabulary = _vocabulary(rest)
        weights = _fit(_design(rest, vocabulary), steps)
        held = _design(_subset(read, fold), vocabulary)
        held_scores.append(_scores(held, weights))
        held_labels.append(held[4])
    temperature = _temperature(np.vstack(held_scores), np.concatenate(held_labels))
    vocabulary = _vocabulary(read)
    sparse_w, dense_w, bias = _fit(_design(read, vocabulary), steps)
    scale = float(np.abs(sparse_w).max()) / 32767 or 1.0
    packed = array("h", np.round(sparse_w / scale).astype(np.int16).ravel().tolist())
    return {
        "format": 3,
        "classes": list(CLASSES),
        "features": list(vocabulary),
        "dense_kinds": list(DENSE_KINDS),
        "sparse_features": SPARSE_FEATURES,
        "temperature": round(temperature, 4),
        "bias": [round(float(v), 6) for v in bias],
        "dense": [[round(float(v) * DENSE_SCALE, 6) for v in row] for row in dense_w],
        "sparse_scale": scale,
        "sparse": base64.b64encode(zlib.compress(packed.tobytes(), 9)).decode("ascii"),
        "trained_on": len(examples),
        "seed": SEED,
        "steps": steps,
    }


def cross_validate(
    examples: list[Example],
    *,
    seeds: tuple[int, ...] = (SEED,),
    steps: int = STEPS,
    unseen: dict[str, list[Example]] | None = None,
) -> dict[str, dict[str, tuple[int, int]]]:
    """Out-of-fold (right, total) per label, language and source: ``FOLDS`` folds per seed.

    Besides the folds, each writer's folder (``Example.source``) is held out whole once while
    the model learns from everything else: a writer the model never read, as a blind set is.
    ``unseen`` (a name -> prompts never trained on, e.g. the validation splits) is scored by
    the model fitted on all of ``examples``, per writer's folder, in the table ``unseen``:
    a validation split's writer is then one more writer held out. ``seeds=()`` skips the folds.
    """
    import numpy as np

    read = _read(examples)
    tally: dict[str, dict[str, list[int]]] = {}

    def count(table: str, key: str, right: bool) -> None:
        cell = tally.setdefault(table, {}).setdefault(key, [0, 0])
        cell[0] += right
        cell[1] += 1

    def held_out(train_ids: set[int], test_ids: set[int], table: str) -> None:
        vocabulary = _vocabulary(_subset(read, train_ids))
        weights = _fit(_design(_subset(read, train_ids), vocabulary), steps)
        held = _design(_subset(read, test_ids), vocabulary)
        predicted = np.argmax(_scores(held, weights), axis=1)
        for i, guess in zip(sorted(test_ids), predicted, strict=True):
            example, right = examples[i], int(guess) == read[i][1]
            if table == "folds":
                count("overall", "all", right)
                count("label", example.task, right)
                count("language", example.language, right)
                count("source", example.source or "-", right)
            else:
                count(table, f"{example.source} {example.task}", right)
                count(table, f"{example.source} {example.language}", right)
                count(table, f"{example.source} all", right)

    everything = set(range(len(read)))
    for seed in seeds:
        order = list(range(len(read)))
        random.Random(seed).shuffle(order)
        for f in range(FOLDS):
            fold = set(order[f::FOLDS])
            held_out(everything - fold, fold, "folds")
    for source in sorted({e.source for e in examples} - {""}):
        ids = {i for i, e in enumerate(examples) if e.source == source}
        held_out(everything - ids, ids, "writer held out")
    if unseen:
        vocabulary = _vocabulary(read)
        weights = _fit(_design(read, vocabulary), steps)
        for name, rows in unseen.items():
            design = _design(_read(rows), vocabulary)
            predicted = np.argmax(_scores(design, weights), axis=1)
            for example, guess in zip(rows, predicted, strict=True):
                right = CLASSES[int(guess)] == example.task
                source = f"{name}/{example.source}" if example.source else name
                for key in (example.task, example.language, "all"):
                    count("unseen", f"{source} {key}", right)
    return {t: {k: (v[0], v[1]) for k, v in rows.items()} for t, rows in tally.items()}


def _print_cross_validation(results: dict[str, dict[str, tuple[int, int]]]) -> None:
    for table, rows in results.items():
        print(table)  # noqa: T201 - a command's output
        for key, (right, total) in sorted(rows.items()):
            print(f"  {key:28s} {right / total:6.1%}  ({right}/{total})")  # noqa: T201


def main(argv: list[str] | None = None) -> None:
    """Train on the training split and write the weights file (or cross-validate with --cv)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name(WEIGHTS_FILE))
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument(
        "--cv", type=int, default=0, metavar="SEEDS", help="cross-validate with this many seeds"
    )
    parser.add_argument(
        "--writers-only",
        action="store_true",
        help="with --cv: skip the folds, hold out each writer and score the validation splits",
    )
    args = parser.parse_args(argv)
    examples = load_split("train")
    if args.cv:
        seeds = () if args.writers_only else tuple(SEED + k for k in range(args.cv))
        unseen = {split: load_split(split) for split in ("validation", "validation_hard")}
        _print_cross_validation(
            cross_validate(examples, seeds=seeds, steps=args.steps, unseen=unseen)
        )
        return
    weights = train(examples, steps=args.steps)
    args.out.write_text(json.dumps(weights, ensure_ascii=False) + "\n", encoding="utf-8")
    print(  # noqa: T201 - a command's output
        f"trained on {len(examples)} prompts, temperature {weights['temperature']}, "
        f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB)"
    )


if __name__ == "__main__":
    main()
