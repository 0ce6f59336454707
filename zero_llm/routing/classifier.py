"""The routing classifier: a small multinomial logistic regression, in pure Python.

In: a request's text. Out: a ``Prediction`` — the task class (``code``, ``analysis`` or
``quick``), a calibrated probability for each class, the kinds of evidence that pointed to
it (``signals``) and a few words a person can read (``cues``).

The weights are package data (``weights.json``, written by ``zero_llm.routing.train``),
read once on first use. Scoring is linear, so each token's contribution (its word and
character 3-grams) is summed once and cached; a decision costs a few regex scans and a
dict look-up per token. No I/O after the first load, no numpy.
"""

from __future__ import annotations

import base64
import json
import math
import threading
import zlib
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from itertools import compress, repeat
from operator import mul
from pathlib import Path
from typing import Any

from zero_llm.errors import ConfigurationError
from zero_llm.routing.features import (
    DENSE_KINDS,
    SPARSE_FEATURES,
    Evidence,
    extract,
    learn_tokens,
    token_features,
    trained_words,
)

__all__ = ["CLASSES", "SHIPPED_WEIGHTS", "Model", "Prediction", "classify", "load_model"]

CLASSES: tuple[str, ...] = ("analysis", "code", "quick")
"""The task classes the classifier chooses between, in weight order."""

WEIGHTS_FILE = "weights.json"
SHIPPED_WEIGHTS = Path(__file__).with_name(WEIGHTS_FILE)
"""The weights file shipped in the package."""
_CACHE_LIMIT = 50_000
CUE_MARGIN = 0.5
"""A token is quoted in a reason when it favours the class by more than this (in logits)."""

Vector = tuple[float, float, float]


@dataclass(frozen=True, slots=True)
class Prediction:
    """One classification: the class, its calibrated probabilities and the evidence."""

    label: str
    """The most probable class."""
    probabilities: dict[str, float]
    """Class -> calibrated probability (they sum to 1)."""
    signals: tuple[str, ...]
    """Kinds of evidence that pointed to ``label`` (e.g. ``ticker``, ``code-fence``)."""
    cues: tuple[str, ...]
    """Words behind that evidence, for a person's reason (never for storage)."""

    @property
    def confidence(self) -> float:
        """The probability of ``label``."""
        return self.probabilities[self.label]


class Model:
    """Trained weights and the cached per-token sums that make scoring cheap.

    Scores are kept relative to the ``quick`` class: softmax does not change when the same
    number is added to every class's score, so subtracting ``quick``'s weight from each
    weight leaves the probabilities as they were and each weight becomes two numbers, held
    as one complex number (``analysis - quick`` + ``code - quick`` j). A text's score is
    then the C-level ``sum`` of its tokens' cached complex weights.
    """

    def __init__(self, data: dict[str, Any]) -> None:
        """Build a model from the weights file's content (see ``zero_llm.routing.train``)."""
        if tuple(data.get("classes", ())) != CLASSES:
            raise ConfigurationError(f"routing weights are for classes {data.get('classes')}")
        if (
            tuple(data.get("dense_kinds", ())) != DENSE_KINDS
            or data.get("sparse_features") != SPARSE_FEATURES
        ):
            raise ConfigurationError(
                "routing weights were trained on other features; retrain them with "
                "python -m zero_llm.routing.train"
            )
        self.temperature = float(data["temperature"])
        dense_rows = [_vector(row) for row in data["dense"]]
        self._bias = _relative(_vector(data["bias"]))
        self._dense = tuple(_relative(row) for row in dense_rows)
        winners = [_strict_winner(row) for row in dense_rows]
        # Per class: the structure features whose weights favour it (index, kind, and the
        # words a reason shows for it when it has no words of its own).
        self.signal_kinds = tuple(
            tuple(
                (k, kind, kind.replace("-", " ") if kind in _STRUCTURE_CUES else "")
                for k, kind in enumerate(DENSE_KINDS)
                if winners[k] == c
            )
            for c in range(len(CLASSES))
        )
        features = data.get("features")
        if not isinstance(features, list):
            raise ConfigurationError("routing weights file has no feature list: retrain it")
        packed = array("h")
        packed.frombytes(zlib.decompress(base64.b64decode(data["sparse"])))
        if len(packed) != len(features) * len(CLASSES):
            raise ConfigurationError("routing weights file is truncated or corrupt")
        scale = float(data["sparse_scale"])
        self._features = {
            feature: complex((a - q) * scale, (c - q) * scale)
            for feature, a, c, q in zip(
                features, packed[0::3], packed[1::3], packed[2::3], strict=True
            )
        }
        self._token_weights = _TokenWeights(self._features)
        # Every word met in training is scored now (about 6,000; some 15 ms), so that a
        # decision pays for a word only when it is new to the model, not new to the process.
        words = trained_words(features)
        self._token_weights.learn(words)
        learn_tokens(words)

    def logits(self, evidence: Evidence) -> Vector:
        """Class scores (before temperature), relative to ``quick``'s."""
        dense = evidence.dense
        score = self._bias + sum(map(mul, compress(dense, dense), compress(self._dense, dense)))
        words = dict.fromkeys(evidence.tokens)  # each word once, in order: a repeat adds nothing
        if words:
            score += sum(map(self._token_weights.__getitem__, words)) / math.sqrt(len(words))
        return (score.real, score.imag, 0.0)

    def predict(self, text: str) -> Prediction:
        """Classify one text."""
        evidence = extract(text)
        a, c, _ = self.logits(evidence)
        # The first best of (a, c, 0), as max() would pick it, and the softmax around it.
        index = (0 if a >= 0.0 else 2) if a >= c else (1 if c >= 0.0 else 2)
        top = (a, c, 0.0)[index]
        t = self.temperature
        ea, ec, eq = math.exp((a - top) / t), math.exp((c - top) / t), math.exp(-top / t)
        total = ea + ec + eq
        probabilities = dict(zip(CLASSES, (ea / total, ec / total, eq / total), strict=True))
        signals: list[str] = []
        cues: list[str] = []
        dense = evidence.dense
        for k, kind, structure_cue in self.signal_kinds[index]:
            if dense[k]:
                signals.append(kind)
                found = evidence.words.get(kind)
                if found:
                    cues.extend(_cue(kind, w) for w in found)
                elif structure_cue:
                    cues.append(structure_cue)
        best = _best_tokens(evidence.tokens, self._token_weights.cue_margins[index])
        if best:
            signals.append("wording")
            for token in best:
                if token not in " ".join(cues).lower():
                    cues.append(f"'{token}'")
        return Prediction(
            CLASSES[index], probabilities, tuple(signals), tuple(dict.fromkeys(cues))[:4]
        )


class _TokenWeights(dict[str, complex]):
    """Token -> its summed feature weights relative to ``quick``, computed on first look-up.

    A look-up of a known token stays in C (``map(weights.__getitem__, tokens)``); only an
    unseen token runs ``__missing__``. Also keeps, per class, the tokens that favour it by
    more than ``CUE_MARGIN`` and by how much, for the words a reason quotes.
    """

    def __init__(self, features: dict[str, complex]) -> None:
        super().__init__()
        self.features = features
        self.cue_margins: tuple[dict[str, float], ...] = ({}, {}, {})

    def learn(self, tokens: Iterable[str]) -> None:
        """Score the tokens now, so that a decision that meets them only looks them up."""
        for token in tokens:
            if token not in self:
                self.__missing__(token)

    def __missing__(self, token: str) -> complex:
        weight: complex = sum(map(self.features.get, token_features(token), repeat(0j)))
        if len(self) >= _CACHE_LIMIT:
            self.clear()
            for margins in self.cue_margins:
                margins.clear()
        self[token] = weight
        a, c = weight.real, weight.imag  # the scores of analysis and code; quick's is 0
        if a > c:
            index, margin = (0, a - c if c > 0 else a) if a > 0 else (2, -a)
        else:
            index, margin = (1, c - a if a > 0 else c) if c > 0 else (2, -c)
        if margin > CUE_MARGIN:
            self.cue_margins[index][token] = margin
        return weight


def _best_tokens(tokens: tuple[str, ...], margins: dict[str, float]) -> list[str]:
    """The two tokens of ``tokens`` with the largest ``margins`` (those above ``CUE_MARGIN``)."""
    strong = set(filter(margins.__contains__, tokens))
    if len(strong) < 2:
        return list(strong)
    ranked = sorted(zip(map(margins.__getitem__, strong), strong, strict=True), reverse=True)
    return [token for _, token in ranked[:2]]


def _relative(row: Vector) -> complex:
    """A class-weight row as the complex number of its scores relative to ``quick``."""
    a, c, q = row
    return complex(a - q, c - q)


def _strict_winner(row: Vector) -> int:
    """The class a structure feature's weights favour strictly over both others, or -1."""
    best = max(range(len(CLASSES)), key=row.__getitem__)
    return best if all(row[best] > row[i] for i in range(len(CLASSES)) if i != best) else -1


_STRUCTURE_CUES = frozenset({"code-fence", "stack-trace", "code-syntax", "ticker-pair"})


def _cue(kind: str, word: str) -> str:
    if kind == "ticker":
        return f"ticker {word}"
    if kind in ("error-name", "currency-pair"):
        return word
    return f"'{word}'"


def _vector(values: Any) -> Vector:
    a, c, q = (float(v) for v in values)
    return (a, c, q)


_model: Model | None = None
_lock = threading.Lock()


def load_model(path: Path | None = None) -> Model:
    """Return the shipped model (read once), or read the weights file at ``path``."""
    global _model
    if path is not None:
        return Model(json.loads(path.read_text(encoding="utf-8")))
    if _model is None:
        with _lock:
            if _model is None:
                source = resources.files("zero_llm.routing").joinpath(WEIGHTS_FILE)
                try:
                    data = json.loads(source.read_text(encoding="utf-8"))
                except FileNotFoundError as exc:
                    raise ConfigurationError(
                        "zero_llm/routing/weights.json is missing: reinstall zero-llm or run "
                        "python -m zero_llm.routing.train"
                    ) from exc
                _model = Model(data)
    return _model


def classify(text: str) -> Prediction:
    """Classify a text with the shipped model."""
    return load_model().predict(text)
