"""The routing classifier: a small multinomial logistic regression, in pure Python.

In: a request's text. Out: a ``Prediction`` — the task class (``code``, ``analysis`` or
``quick``), a calibrated probability for each class, the kinds of evidence that pointed to
it (``signals``) and a few words a person can read (``cues``).

The weights are package data (``weights.json``, written by ``zero_llm.routing.train``),
read once on first use. Scoring is linear, so each token's contribution (its word and
character n-grams) is summed once and cached; a decision costs a few regex scans and a
dict look-up per token. No I/O after the first load, no numpy.
"""

from __future__ import annotations

import base64
import heapq
import json
import math
import threading
import zlib
from array import array
from dataclasses import dataclass
from importlib import resources
from operator import itemgetter
from pathlib import Path
from typing import Any

from zero_llm.errors import ConfigurationError
from zero_llm.routing.features import (
    DENSE_KINDS,
    SPARSE_FEATURES,
    Evidence,
    extract,
    token_buckets,
)

__all__ = ["CLASSES", "SHIPPED_WEIGHTS", "Model", "Prediction", "classify", "load_model"]

CLASSES: tuple[str, ...] = ("analysis", "code", "quick")
"""The task classes the classifier chooses between, in weight order."""

WEIGHTS_FILE = "weights.json"
SHIPPED_WEIGHTS = Path(__file__).with_name(WEIGHTS_FILE)
"""The weights file shipped in the package."""
_CACHE_LIMIT = 50_000

Vector = tuple[float, float, float]
TokenScore = tuple[float, float, float, int, Vector]
"""A token's class weights (a, c, q), its feature count, and by how much it favours each class."""


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
    """Trained weights and the cached per-token sums that make scoring cheap."""

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
        self.buckets = int(data["buckets"])
        self.temperature = float(data["temperature"])
        self.bias: Vector = _vector(data["bias"])
        self.dense: tuple[Vector, ...] = tuple(_vector(row) for row in data["dense"])
        winners = [_strict_winner(row) for row in self.dense]
        # Per class: the structure features (index, kind) whose weights favour it.
        self.signal_kinds = tuple(
            tuple((k, kind) for k, kind in enumerate(DENSE_KINDS) if winners[k] == c)
            for c in range(len(CLASSES))
        )
        packed = array("h")
        packed.frombytes(zlib.decompress(base64.b64decode(data["sparse"])))
        if len(packed) != self.buckets * len(CLASSES):
            raise ConfigurationError("routing weights file is truncated or corrupt")
        scale = float(data["sparse_scale"])
        self.columns = tuple([v * scale for v in packed[c :: len(CLASSES)]] for c in range(3))
        self._token_cache: dict[str, TokenScore] = {}

    def token_vector(self, token: str) -> TokenScore:
        """One token's summed class weights, its feature count, and its margin per class."""
        cached = self._token_cache.get(token)
        if cached is not None:
            return cached
        pick = itemgetter(*token_buckets(token))  # a token has two features at least
        a_col, c_col, q_col = self.columns
        picked = pick(a_col)
        a, c, q = sum(picked), sum(pick(c_col)), sum(pick(q_col))
        margins = (a - max(c, q), c - max(a, q), q - max(a, c))
        value = (a, c, q, len(picked), margins)
        if len(self._token_cache) >= _CACHE_LIMIT:
            self._token_cache.clear()
        self._token_cache[token] = value
        return value

    def logits(self, evidence: Evidence) -> tuple[Vector, tuple[Vector, ...]]:
        """Class scores (before temperature) and by how much each token favours each class."""
        cached = self._token_cache.get  # read inline: this is the hot path
        scored = [cached(token) or self.token_vector(token) for token in evidence.tokens]
        if scored:
            a_parts, c_parts, q_parts, counts, margins = zip(*scored, strict=True)
            norm = 1.0 / math.sqrt(sum(counts))
            a, c, q = sum(a_parts) * norm, sum(c_parts) * norm, sum(q_parts) * norm
        else:
            a = c = q = 0.0
            margins = ()
        ba, bc, bq = self.bias
        scores = [ba + a, bc + c, bq + q]
        for value, row in zip(evidence.dense, self.dense, strict=True):
            if value:
                scores[0] += value * row[0]
                scores[1] += value * row[1]
                scores[2] += value * row[2]
        return (scores[0], scores[1], scores[2]), margins

    def predict(self, text: str) -> Prediction:
        """Classify one text."""
        evidence = extract(text)
        scores, margins = self.logits(evidence)
        t = self.temperature
        top = max(scores)
        exps = [math.exp((s - top) / t) for s in scores]
        total = sum(exps)
        probabilities = {name: e / total for name, e in zip(CLASSES, exps, strict=True)}
        index = scores.index(top)
        label = CLASSES[index]
        signals: list[str] = []
        cues: list[str] = []
        dense = evidence.dense
        for k, kind in self.signal_kinds[index]:
            if dense[k]:
                signals.append(kind)
                found = evidence.words.get(kind, ())
                if found:
                    cues.extend(_cue(kind, w) for w in found)
                elif kind in _STRUCTURE_CUES:
                    cues.append(kind.replace("-", " "))
        words = [f"'{token}'" for _, token in _best_tokens(evidence.tokens, margins, index)]
        if words:
            signals.append("wording")
            cues.extend(w for w in words if w.strip("'") not in " ".join(cues).lower())
        return Prediction(label, probabilities, tuple(signals), tuple(dict.fromkeys(cues))[:4])


def _best_tokens(
    tokens: tuple[str, ...], margins: tuple[Vector, ...], index: int
) -> list[tuple[float, str]]:
    """The two tokens that favour class ``index`` by more than 0.5 most, with their margins."""
    strong = [(m[index], token) for token, m in zip(tokens, margins, strict=True) if m[index] > 0.5]
    return heapq.nlargest(2, strong) if len(strong) > 2 else sorted(strong, reverse=True)


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
