"""Routing: the task table, aliases, unknown tasks, and the text classifier."""

from __future__ import annotations

import json
import math
import re

import pytest

from zero_llm import InvalidRequestError, ModelManager, UnknownModelError
from zero_llm.catalog import DEFAULT_MODELS, Catalog
from zero_llm.errors import ConfigurationError
from zero_llm.routing import features
from zero_llm.routing.classifier import SHIPPED_WEIGHTS, Model
from zero_llm.routing.dataset import load_split
from zero_llm.routing.evaluate import evaluate
from zero_llm.routing.router import SCAN_LIMIT, classify_text, route


@pytest.fixture
def mm() -> ModelManager:
    return ModelManager()


@pytest.mark.parametrize(
    ("task", "model"),
    [
        ("code", "qwen2.5-coder:32b"),
        ("Coding", "qwen2.5-coder:32b"),
        ("trading", "deepseek-r1:32b"),
        ("ANALYSIS", "deepseek-r1:32b"),
        ("reasoning", "deepseek-r1:32b"),
        ("quick", "llama3.1:8b"),
        ("chat", "llama3.1:8b"),
        ("anything", "llama3.1:8b"),
        ("  code  ", "qwen2.5-coder:32b"),
    ],
)
def test_switch_model_table(mm: ModelManager, task: str, model: str) -> None:
    assert mm.switch_model(task) == model


def test_unknown_task_says_it_went_to_the_default(mm: ModelManager) -> None:
    decision = mm.route("hello", task="poetry")
    assert decision.model == "llama3.1:8b" and decision.explicit
    assert "unknown task 'poetry'" in decision.reason


@pytest.mark.parametrize("bad", ["", "   ", None, 3])
def test_switch_model_rejects_bad_tasks(mm: ModelManager, bad: object) -> None:
    with pytest.raises(InvalidRequestError, match="task"):
        mm.switch_model(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "task"),
    [
        ("```python\nprint(1)\n```", "code"),
        ('Traceback (most recent call last):\n  File "a.py", line 3, in <module>', "code"),
        ("def parse(x):\n    return x", "code"),
        ("Fix this bug in my python function", "code"),
        ("TypeError: undefined is not a function", "code"),
        ("כתוב לי פונקציה שממיינת רשימה", "code"),
        ("Why did $NVDA drop after earnings?", "analysis"),
        ("Analyse the risk of this trading strategy", "analysis"),
        ("Should I hedge my portfolio against volatility?", "analysis"),
        ("למה המניה ירדה היום ומה הסיכון?", "analysis"),
        ("What's the capital of France?", "quick"),
        ("hi", "quick"),
        ("תודה רבה!", "quick"),
        ("Tell me a joke 😀", "quick"),
    ],
)
def test_classifier_cases(text: str, task: str) -> None:
    decided, reason = classify_text(text)
    assert decided == task, reason
    assert reason


def test_classifier_reads_head_and_tail_of_long_text() -> None:
    long = "word " * 10000 + "\n```python\nx = 1\n```"
    assert classify_text(long)[0] == "code"
    assert SCAN_LIMIT <= 2048


def test_route_reason_travels_with_decision(mm: ModelManager) -> None:
    decision = mm.route("Why is $TSLA falling and what is my risk?")
    assert decision.role == "reasoning" and not decision.explicit
    assert "$TSLA" in decision.reason


def test_catalog_resolves_names_aliases_and_roles() -> None:
    catalog = Catalog(DEFAULT_MODELS, "quick")
    for name in ("llama", "LLAMA3.1", "llama3.1:8b", "quick"):
        assert catalog.resolve(name).name == "llama3.1:8b"
    assert catalog.resolve("deepseek").think is True
    assert [s.name for s in catalog.fallback_chain(catalog.resolve("qwen"))] == ["llama3.1:8b"]
    with pytest.raises(UnknownModelError, match="not in the catalog"):
        catalog.resolve("mistral")


# ------------------------------------------------------------------ the learned classifier

CATALOG = Catalog(DEFAULT_MODELS, "quick")


@pytest.fixture(scope="module")
def validation():  # type: ignore[no-untyped-def]
    return evaluate("validation")


def test_validation_accuracy_overall_per_task_and_language(validation) -> None:  # type: ignore[no-untyped-def]
    assert validation.total >= 900
    assert validation.accuracy >= 0.98, validation.misses
    for task in ("analysis", "code", "quick"):
        assert validation.rate(validation.by_task, task) >= 0.90, task
    for language in ("en", "he", "mixed"):
        assert validation.rate(validation.by_language, language) >= 0.90, language


@pytest.fixture(scope="module")
def hard():  # type: ignore[no-untyped-def]
    return evaluate("validation_hard")


def test_hard_validation_split_is_reported_apart_and_holds(hard) -> None:  # type: ignore[no-untyped-def]
    # Hard prompts (words in another sense, operations without code syntax, code about money,
    # small first questions) from four writers who saw nothing of the project, each scored
    # blind once before they joined (94.6%, 93.8%, 95.4% and 97.5%; no longer blind). A
    # floor under what the shipped router reaches, not the goal: mixed messages are lower
    # than the rest (blind3's were 84.8% blind, 90.9% now), so their floor is lower.
    assert hard.split == "validation_hard" and hard.total >= 954
    assert hard.accuracy >= 0.97, hard.misses
    for task in ("analysis", "code", "quick"):
        assert hard.rate(hard.by_task, task) >= 0.95, task
    for language in ("en", "he"):
        assert hard.rate(hard.by_language, language) >= 0.95, language
    assert hard.rate(hard.by_language, "mixed") >= 0.92
    assert sum(hard.confusion.values()) == hard.total


def test_the_hard_split_reports_each_writer_apart(hard) -> None:  # type: ignore[no-untyped-def]
    # blind2, blind3 and blind4: three more independent writers, each scored blind once
    # (93.8%, 95.4% and 97.5%) before it joined.
    assert set(hard.by_part) == {"-", "blind2", "blind3", "blind4"}
    assert hard.by_part["blind4"]["all"][1] == 240
    assert hard.by_part["blind2"]["all"][1] == 236
    assert hard.by_part["blind3"]["all"][1] == 238
    assert sum(part["all"][1] for part in hard.by_part.values()) == hard.total
    for part in hard.by_part.values():
        assert {"analysis", "code", "quick", "en", "he", "mixed"} <= set(part)
        right, count = part["all"]
        assert right / count >= 0.95


def test_no_hard_validation_prompt_is_a_training_prompt() -> None:
    seen = {e.text.strip().lower() for e in load_split("train")}
    for split in ("validation", "validation_hard"):
        assert not [e.text for e in load_split(split) if e.text.strip().lower() in seen], split


def test_confidence_is_calibrated_on_the_validation_split(validation) -> None:  # type: ignore[no-untyped-def]
    assert sum(n for _, _, n, _, _ in validation.calibration) == validation.total
    assert validation.calibration_error < 0.05
    for low, high, count, confidence, accuracy in validation.calibration:
        assert low <= confidence < high or confidence == high == 1.0
        # Within three binomial standard errors of what the confidence promises.
        error = 3 * (confidence * (1 - confidence) / count) ** 0.5 + 0.02
        assert abs(confidence - accuracy) < error, (low, high, count, confidence, accuracy)


def test_explicit_task_wins_over_text_and_conversation() -> None:
    decision = route(CATALOG, task="code", text="Is NVDA overvalued?", current_role="reasoning")
    assert decision.role == "code" and decision.method == "explicit"
    assert decision.confidence == 1.0 and not decision.sticky and decision.explicit


def test_confident_decision_has_probability_reason_and_signal_kinds() -> None:
    decision = route(CATALOG, text="Give me the bull case for NVDA vs AMD")
    assert decision.role == "reasoning" and decision.method == "classifier"
    assert 0.8 <= decision.confidence <= 1.0 and not decision.low_confidence
    assert "ticker NVDA" in decision.reason and "confidence" in decision.reason
    assert "ticker" in decision.signals
    assert not any("NVDA" in s or "bull" in s for s in decision.signals)


@pytest.mark.parametrize(
    "text", ["now add type hints", "make it faster", "and what about the tests?"]
)
def test_follow_up_stays_on_the_code_model(text: str) -> None:
    decision = route(CATALOG, text=text, current_role="code")
    assert decision.role == "code" and decision.sticky, decision.reason


def test_follow_up_stays_on_reasoning_model() -> None:
    decision = route(
        CATALOG, text="ok, how long should I hold them?", current_role="deepseek-r1:32b"
    )
    assert decision.role == "reasoning" and decision.sticky
    assert decision.method in ("sticky", "classifier")


def test_confident_other_task_leaves_the_conversation_model() -> None:
    text = "Traceback (most recent call last):\n  File \"bot.py\", line 3\nKeyError: 'close'"
    decision = route(CATALOG, text=text, current_role="reasoning")
    assert decision.role == "code" and not decision.sticky
    assert "stack-trace" in decision.signals


def test_sticky_below_switch_threshold_says_so() -> None:
    decision = route(CATALOG, text="Is NVDA overvalued?", current_role="code", switch_threshold=1.0)
    assert decision.role == "code" and decision.method == "sticky" and decision.sticky
    assert "switch threshold" in decision.reason


def test_low_confidence_goes_to_the_default_and_says_so() -> None:
    decision = route(CATALOG, text="Give me the bull case for NVDA", threshold=1.0)
    assert decision.role == "quick" and decision.low_confidence
    assert decision.method == "low-confidence-default"
    assert "low confidence" in decision.reason


@pytest.mark.parametrize("bad", [1.5, -0.1, "high"])
def test_thresholds_must_be_probabilities(bad: object) -> None:
    with pytest.raises(InvalidRequestError, match="threshold"):
        route(CATALOG, text="hi", threshold=bad)  # type: ignore[arg-type]


def test_unknown_current_role_is_refused() -> None:
    with pytest.raises(InvalidRequestError, match="current_role"):
        route(CATALOG, text="hi", current_role="mistral")


@pytest.mark.parametrize(
    "text",
    ["איך מכינים שקשוקה?", "מתכון לעוגת שוקולד", "כמה תושבים יש בגרמניה?", "כמה סוכר יש בשוקו?"],
)
def test_hebrew_market_words_inside_other_words_do_not_count(text: str) -> None:
    decision = route(CATALOG, text=text)
    assert decision.role == "quick", decision.reason
    assert "market-term" not in decision.signals


def test_hebrew_prefixes_before_terms_count() -> None:
    decision = route(CATALOG, text="ובשוק המניות, מה דעתך לשנה הבאה?")
    assert decision.role == "reasoning", decision.reason


@pytest.mark.parametrize(
    "text",
    [
        "Write a Python function that computes MACD for AAPL daily closes",
        "my trading bot crashes: KeyError: 'close' when the exchange returns no candles",
        "תכתוב סקריפט שמוריד מחירי ביטקוין מה-API ושומר ל-CSV",
    ],
)
def test_code_about_trading_is_code(text: str) -> None:
    assert route(CATALOG, text=text).role == "code"


def test_switch_model_is_unchanged_by_the_classifier(mm: ModelManager) -> None:
    assert [mm.switch_model(t) for t in ("code", "trading", "analysis", "quick", "x")] == [
        "qwen2.5-coder:32b",
        "deepseek-r1:32b",
        "deepseek-r1:32b",
        "llama3.1:8b",
        "llama3.1:8b",
    ]


def test_decision_cost_is_bounded(validation) -> None:  # type: ignore[no-untyped-def]
    # A bound on a loaded 2-core machine, not the goal: python -m benchmarks.routing prints
    # the p50 and the p99 (goal 100 us) measured on a quiet one.
    assert 0 < validation.p50_us < 250


def test_small_talk_does_not_pull_a_conversation_to_the_default_model() -> None:
    decision = route(CATALOG, text="thanks!", current_role="reasoning")
    assert decision.role == "reasoning" and decision.method == "sticky"
    assert "default task" in decision.reason


SHORTCUT_CASES = [
    "plain words and nothing else",
    "for x in range(3):\n    print(x)",
    "from pandas import read_csv\nlet it be",
    "select * from prices\nwhile true",
    "if ready:\n  go",
    "snake_case and camelCase",
    "a -> b",
    "AAPLvsMSFT and $TSLA",
    'Traceback (most recent call last):\n  File "x.py", line 3',
    "ValueError: bad input",
    "  at com.example.Main(Main.java:3)",
    "java:\n\tat Foo.bar(",
    "segmentation fault (core dumped)",
    "מה המצב של השוק היום?",
    "1NVDA or AMD",
    "$nvda vs $amd",
    "got ENOENT and errno 2",
    "EACCES",
    "up 5 percent, 3% or 7 אחוז",
    "% 4",
    "xAAPL _MSFT $AAPL AB.C ABCDEF NVDA( ABCDEF vs AB",
    "aValueError ZeroDivisionError _errno xEACCES",
    "df.rolling(20).mean() and f(x) and g(a, 'b') and h(x-1)",
    "c++ c# a.b.c a++b x'y it's ג'ייסון ש\"ח ה-api v2.0-rc1 a--b +1 #tag",
]


# The plain forms of the patterns that features.py writes to lead with a literal or a capital.
PLAIN_ERROR_NAME = re.compile(r"\b[A-Z]\w*(?:Error|Exception|Warning)\b|\berrno\b|\bE[A-Z]{4,}\b")
PLAIN_CAPS = re.compile(r"(?<![A-Za-z0-9_$])[A-Z]{2,5}(?:\.[A-Z])?(?![A-Za-z0-9_(])")
PLAIN_PAIR = re.compile(
    r"(?<![A-Za-z])([A-Z]{2,5}|\$[A-Z]{1,5})\s*(?:vs\.?|versus|or|/|\u05de\u05d5\u05dc|\u05d0\u05d5)\s*"
    r"([A-Z]{2,5}|\$[A-Z]{1,5})(?![A-Za-z])"
)
PLAIN_TOKEN = re.compile(
    r"[a-z0-9]+(?:[._'+#&/-][a-z0-9]+)*[+#]*|[\u05d0-\u05ea]+(?:['\"\u05f3\u05f4][\u05d0-\u05ea]+)*'?"
)
PLAIN_CAMEL_CASE = re.compile(r"\b[a-z]+[A-Z]\w*\b")
PLAIN_CODE_PUNCTUATION = re.compile(
    r"=>|->|::|!=|==|\+=|;\s*$|\)\s*\{|`[^`\n]+`|\w\([\w'\"., =]*\)|\w\.\w+\(", re.MULTILINE
)


def assert_shortcuts_agree(text: str) -> None:
    """The cheap paths of the feature scan give what the plain regex scans give."""
    window = features.scan_window(text)
    lower = window.lower()
    assert features._TOKEN.findall(lower) == PLAIN_TOKEN.findall(lower)
    assert features._ERROR_NAME.findall(window) == PLAIN_ERROR_NAME.findall(window)
    assert features._CAPS.findall(window) == PLAIN_CAPS.findall(window)
    assert features._PAIR.findall(window) == PLAIN_PAIR.findall(window)
    # Calls start one character later than the plain pattern's (the look-behind): count them.
    punctuation = features._CODE_PUNCTUATION.findall(window)
    assert len(punctuation) == len(PLAIN_CODE_PUNCTUATION.findall(window))
    assert features._CAMEL_CASE.findall(window) == PLAIN_CAMEL_CASE.findall(window)
    if features._CAMEL_CASE.search(window):
        assert features._CAMEL_GATE.search(window)
    if features._TRACE.search(window):
        assert features._TRACE_GATE.search(lower)
    for literal in features._TRACE_LITERALS:  # a gate match that is a whole _TRACE match
        if window.isascii() and literal in lower:
            assert features._TRACE.search(window)
    if features._ERROR_NAME.search(window):
        assert features._UPPER_RUN.search(window) or features._ERROR_WORD.search(window)
    if features._PAIR.search(window):
        assert features._UPPER_RUN.search(window) or "$" in window
    if features._PERCENT.search(lower):
        assert features._PERCENT_GATE.search(lower)
    capitals = (features._UPPER_RUN, features._CAMEL_GATE, features._CAPS)
    if any(pattern.search(window) for pattern in capitals):
        assert lower != window
    if features._HEBREW.search(window):
        assert not window.isascii()


@pytest.mark.parametrize("text", SHORTCUT_CASES)
def test_feature_shortcuts_give_what_the_full_scans_give(text: str) -> None:
    assert_shortcuts_agree(text)


def test_feature_shortcuts_agree_on_every_labelled_prompt() -> None:
    for split in ("train", "validation", "validation_hard"):
        for example in load_split(split):
            assert_shortcuts_agree(example.text)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sparse_features": "word+char3-ends/vocabulary"}, "trained on other features"),
        ({"sparse_features": None}, "trained on other features"),
        ({"dense_kinds": ["code-fence"]}, "trained on other features"),
        ({"classes": ["code", "quick"]}, "for classes"),
        ({"features": ["<a>", "<b>"]}, "truncated or corrupt"),
        ({"features": None}, "no feature list"),
    ],
)
def test_weights_for_other_features_are_refused(change: dict[str, object], message: str) -> None:
    data = json.loads(SHIPPED_WEIGHTS.read_text(encoding="utf-8"))
    data.update(change)
    with pytest.raises(ConfigurationError, match=message):
        Model(data)


def test_the_training_script_reproduces_the_shipped_weights() -> None:
    # Deterministic training: the same prompts give the same weights. Up to one int16 step
    # apart, since another machine's BLAS may round the last bit of a sum differently.
    from zero_llm.routing.train import train

    shipped = json.loads(SHIPPED_WEIGHTS.read_text(encoding="utf-8"))
    trained = train(load_split("train"))
    assert trained["features"] == shipped["features"]
    assert trained["temperature"] == pytest.approx(shipped["temperature"], abs=0.05)
    assert trained["sparse_scale"] == pytest.approx(shipped["sparse_scale"], rel=1e-6)
    assert trained["bias"] == pytest.approx(shipped["bias"], abs=1e-4)
    for ours, theirs in zip(trained["dense"], shipped["dense"], strict=True):
        assert ours == pytest.approx(theirs, abs=1e-4)
    steps = [abs(a - b) for a, b in zip(_int16s(trained), _int16s(shipped), strict=True)]
    assert max(steps) <= 1


def _int16s(weights: dict[str, object]) -> list[int]:
    import base64
    import zlib
    from array import array

    packed = array("h")
    packed.frombytes(zlib.decompress(base64.b64decode(str(weights["sparse"]))))
    return packed.tolist()


def test_geresh_and_gershayim_read_as_apostrophe_and_quote() -> None:
    typed = features.extract("הג'ייסון שחוזר ריק, 200 ש\"ח")
    phone = features.extract("הג\u05f3ייסון שחוזר ריק, 200 ש\u05f4ח")
    assert phone.tokens == typed.tokens
    assert "הג'ייסון" in phone.tokens and 'ש"ח' in phone.tokens
    assert phone.dense == typed.dense


@pytest.mark.parametrize(
    ("text", "joints"),
    [("max_retries = 3", 1), ("a_b_c", 2), ("__init__ and _private", 0), ("MAX_RETRIES", 0)],
)
def test_snake_case_joints_are_counted(text: str, joints: int) -> None:
    assert len(features._SNAKE_JOINT.findall(text)) == joints


def test_scores_relative_to_quick_give_the_plain_softmax() -> None:
    # The model sums complex weights (analysis - quick, code - quick); the plain reading of
    # the weights file (three scores per feature, a softmax over three classes) must agree.
    data = json.loads(SHIPPED_WEIGHTS.read_text(encoding="utf-8"))
    model = Model(data)
    packed = _int16s(data)
    scale = data["sparse_scale"]
    columns = {f: i for i, f in enumerate(data["features"])}
    for text in [e.text for e in load_split("validation")[::37]] + ["", "?", "word " * 500]:
        evidence = features.extract(text)
        scores = list(data["bias"])
        words = list(dict.fromkeys(evidence.tokens))
        for word in words:
            for feature in features.token_features(word):
                if feature in columns:
                    for k in range(3):
                        scores[k] += packed[3 * columns[feature] + k] * scale / len(words) ** 0.5
        for value, row in zip(evidence.dense, data["dense"], strict=True):
            for k in range(3):
                scores[k] += value * row[k]
        exps = [math.exp((s - max(scores)) / data["temperature"]) for s in scores]
        expected = {
            c: e / sum(exps) for c, e in zip(("analysis", "code", "quick"), exps, strict=True)
        }
        got = model.predict(text).probabilities
        assert got == pytest.approx(expected, abs=1e-9), text


def test_a_fresh_model_has_already_scored_the_words_it_was_trained_on() -> None:
    # A new process pays at load, not at its first decisions, for the words of training.
    data = json.loads(SHIPPED_WEIGHTS.read_text(encoding="utf-8"))
    features.clear_feature_caches()
    model = Model(data)
    trained = set(features.trained_words(data["features"]))
    assert len(trained) > 5000
    assert trained <= model._token_weights.keys()
    assert trained <= features._HIT_CACHE.keys()
    assert "zzqxv" not in model._token_weights  # a word of no prompt is scored when met
    model.predict("zzqxv")
    assert "zzqxv" in model._token_weights


def test_a_split_reads_its_own_files_then_each_writers_folder(tmp_path) -> None:  # type: ignore[no-untyped-def]
    split = tmp_path / "train"
    (split / "writer-b").mkdir(parents=True)
    (split / "writer-a").mkdir()
    (split / "code.txt").write_text("fix my loop\n", encoding="utf-8")
    (split / "writer-b" / "quick.txt").write_text("hi\\nthere\n\n", encoding="utf-8")
    (split / "writer-a" / "analysis.txt").write_text("is NVDA a buy?\n", encoding="utf-8")
    rows = load_split("train", tmp_path)
    assert [(e.text, e.task, e.source) for e in rows] == [
        ("fix my loop", "code", ""),
        ("is NVDA a buy?", "analysis", "writer-a"),
        ("hi\nthere", "quick", "writer-b"),
    ]


def test_cross_validation_holds_each_writer_out(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from zero_llm.routing.train import cross_validate

    rows = [e for e in load_split("train") if not e.source][::40]
    rows += [e for e in load_split("train") if e.source == "hard-en"][::10]
    results = cross_validate(rows, steps=5)
    assert results["overall"]["all"][1] == len(rows)
    held = results["writer held out"]
    assert held["hard-en all"][1] == sum(e.source == "hard-en" for e in rows)
    assert set(results["source"]) == {"-", "hard-en"}


def test_cross_validation_scores_unseen_writers_by_the_whole_fit() -> None:
    from zero_llm.routing.train import cross_validate

    rows = [e for e in load_split("train") if not e.source][::40]
    unseen = [e for e in load_split("validation_hard") if e.source == "blind2"][::8]
    results = cross_validate(rows, seeds=(), steps=5, unseen={"validation_hard": unseen})
    assert "overall" not in results  # no seeds: no folds
    table = results["unseen"]
    assert table["validation_hard/blind2 all"][1] == len(unseen)
    assert sum(
        table[f"validation_hard/blind2 {t}"][1] for t in ("analysis", "code", "quick")
    ) == len(unseen)


def test_a_pivot_leaves_the_small_first_question_out() -> None:
    evidence = features.extract("is the market open monday? anyway, write me a python function")
    assert evidence.tokens == ("write", "me", "a", "python", "function")
    assert evidence.dense[features.DENSE_KINDS.index("pivot")] == 1.0
    text = "היי מה נשמע? ועכשיו לעניין: תכתוב לי פונקציה בפייתון"
    assert route(CATALOG, text=text).role == "code"


def test_a_market_word_beside_everyday_words_is_marked() -> None:
    beside = features.DENSE_KINDS.index("market-beside-everyday")
    assert features.extract("gift ideas for my dad who loves stocks").dense[beside] > 0
    assert features.extract("should I sell my stocks before earnings").dense[beside] == 0


def test_money_arithmetic_needs_a_number() -> None:
    kind = features.DENSE_KINDS.index("money-sum")
    assert features.extract("tip on $64 at 20%?").dense[kind] > 0
    assert features.extract("any tip for a first trip to rome?").dense[kind] == 0


@pytest.mark.parametrize(
    ("text", "task"),
    [
        ("what does rebase mean in git?", "code"),
        ("מה זה ריבייס בגיט?", "code"),
        ("helm vs kustomize for a few services, which one?", "code"),
        ("now in rust", "code"),
        ("how should I store money amounts in postgres, float or numeric?", "code"),
        ("my cat is named Python, is that a good name?", "quick"),
        ("gift ideas for a friend who trades crypto", "quick"),
        ("write a cover letter for a junior backend developer job", "quick"),
        ("כואב לי השוק אחרי הריצה, מה לעשות?", "quick"),
    ],
)
def test_hard_kinds(text: str, task: str) -> None:
    decided, reason = classify_text(text)
    assert decided == task, reason


def test_every_pivot_keeps_a_word_of_the_gate() -> None:
    for pivot in features.PIVOTS:
        assert features._PIVOT_GATE.intersection(features._TOKEN.findall(pivot)), pivot


def _kind(evidence: features.Evidence, kind: str) -> float:
    return evidence.dense[features.DENSE_KINDS.index(kind)]


def test_a_word_in_another_sense_is_set_aside_in_its_set_phrase() -> None:
    dress = features.extract("what's the dress code for a bank interview?")
    assert "code" not in dress.tokens and "dress" in dress.tokens
    assert "code-term" not in dress.words and _kind(dress, "other-sense") > 0
    market = features.extract("נוסעים מחר לשוק הכרמל, מה לקנות?")
    assert "market-term" not in market.words and _kind(market, "other-sense") > 0
    plain = features.extract("review the code of my trading bot")
    assert "code" in plain.tokens and _kind(plain, "other-sense") == 0


def test_a_languages_name_given_to_a_pet_is_a_name_unless_code_is_beside_it() -> None:
    pet = features.extract("we named our puppy Java and she chews cables")
    assert "java" not in pet.tokens and _kind(pet, "named") > 0
    assert "code-term" not in pet.words
    code = features.extract("a python function called parse returns None")
    assert "python" in code.tokens and _kind(code, "named") == 0


def test_leading_greetings_are_set_aside_before_the_real_question() -> None:
    text = "hi! quick one, thanks for earlier. can you review this function?"
    evidence = features.extract(text)
    assert evidence.tokens[:3] == ("can", "you", "review") and _kind(evidence, "greeting") == 1
    hebrew = features.extract("בוקר טוב! מה שלומך? תגיד, איך כותבים דקורטור בפייתון?")
    assert hebrew.tokens[0] == "איך" and _kind(hebrew, "greeting") == 1
    # A greeting alone stays as it is, and so does a text whose first word only looks like one.
    assert features.extract("good morning!").tokens == ("good", "morning")
    assert _kind(features.extract("good morning!"), "greeting") == 0
    assert _kind(features.extract("so what is a stock"), "greeting") == 0


def test_what_a_definition_or_a_choice_is_about_is_told_apart() -> None:
    rebase = features.extract("what does rebase mean?")
    assert _kind(rebase, "define-code") == 1 and _kind(rebase, "define-market") == 0
    etf = features.extract("what is an ETF?")
    assert _kind(etf, "define-market") == 1 and _kind(etf, "define-code") == 0
    choice = features.extract("kafka vs rabbitmq, which is better?")
    assert _kind(choice, "judgement-on-code") == 1
    assert _kind(features.extract("NVDA or AMD, which is better?"), "judgement-on-code") == 0
    bot = features.extract("backtest my stock trading strategy in python")
    assert _kind(bot, "code-with-market") == 1


def test_a_short_follow_up_is_marked_and_a_long_one_is_not() -> None:
    assert _kind(features.extract("and what about the tests?"), "follow-up") == 1
    assert _kind(features.extract("ומה עם הטסטים?"), "follow-up") == 1
    long = "and then we went to the market and bought some apples and pears for the kids"
    assert _kind(features.extract(long), "follow-up") == 0


def test_a_quotations_prefix_is_left_out_and_acronyms_are_kept() -> None:
    assert features.extract('מה הכוונה ב"קרן אור" בשיר?').tokens[2:4] == ("קרן", "אור")
    assert features.extract('וה"דובים" של הבורסה').tokens[0] == "דובים"
    assert features.extract('כמה ש"ח זה באג"ח').tokens == ("כמה", 'ש"ח', "זה", 'באג"ח')


@pytest.mark.parametrize(
    ("text", "task"),
    [
        ("what's the point of a circuit breaker in microservices", "code"),
        ("our kafka consumer lag keeps growing, any ideas?", "code"),
        (
            "my trading bot double-sends orders after a reconnect, how do I make it idempotent",
            "code",
        ),
        ("how should a cron job skip exchange holidays", "code"),
        ("terraform or pulumi for a small team?", "code"),
        ("מה זה דד לטר קיו?", "code"),
        ("סמנטיק ורז'נינג, מתי מעלים מייג'ור?", "code"),
        (
            "hi! thanks for yesterday. can you review this function that computes a sharpe ratio?",
            "code",
        ),
        ("dress code for a bank interview?", "quick"),
        ("we named our hamster Rust, what should he eat?", "quick"),
        ("my boyfriend is afraid to commit, what do I do", "quick"),
        ("נוסעים לשוק הכרמל בשישי, מה כדאי לקנות?", "quick"),
        ("how much is 40 euros in dollars roughly", "quick"),
        ("hello there! quick one: should I trim my NVDA position before earnings?", "analysis"),
    ],
)
def test_hard_kinds_of_round_three(text: str, task: str) -> None:
    decided, reason = classify_text(text)
    assert decided == task, reason


def test_the_later_writers_folders_are_read_into_the_training_split() -> None:
    rows = load_split("train")
    for writer, languages in (
        ("hard-en2", {"en"}),
        ("hard-hm2", {"he", "mixed"}),
        ("hard-mix3", {"en", "he", "mixed"}),
        ("hard-mixed4", {"he", "mixed"}),
    ):
        mine = [e for e in rows if e.source == writer]
        assert len(mine) >= 300, writer
        assert {e.task for e in mine} == {"analysis", "code", "quick"}, writer
        assert languages <= {e.language for e in mine}, writer


def test_a_folder_of_three_files_is_read_and_a_wrong_folder_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from zero_llm.routing.dataset import load_folder

    (tmp_path / "code.txt").write_text("fix my loop\\nplease\n", encoding="utf-8")
    (tmp_path / "quick.txt").write_text("מה השעה?\n\n", encoding="utf-8")
    rows = load_folder(tmp_path, "blind")
    assert [(e.text, e.task, e.language, e.source) for e in rows] == [
        ("fix my loop\nplease", "code", "en", "blind"),
        ("מה השעה?", "quick", "he", "blind"),
    ]
    with pytest.raises(ConfigurationError, match="not found"):
        load_folder(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigurationError, match=r"analysis\.txt, code\.txt, quick\.txt"):
        load_folder(tmp_path / "empty")


def test_the_benchmark_scores_a_blind_folder(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from benchmarks.routing import main

    (tmp_path / "analysis.txt").write_text(
        "should I trim my NVDA after earnings?\n", encoding="utf-8"
    )
    (tmp_path / "code.txt").write_text(
        "מה זה ריבייס בגיט?\nfix this: def f(: pass\n", encoding="utf-8"
    )
    (tmp_path / "quick.txt").write_text("מה ה-dress code לחתונה?\n", encoding="utf-8")
    main(["--blind", str(tmp_path)])
    out = capsys.readouterr().out
    assert f"on the {tmp_path} split: 4 prompts" in out
    for row in ("analysis", "code", "quick", "en", "he", "mixed"):
        assert re.search(rf"^  {row} +\d+\.\d%  \(\d+/\d+\)$", out, re.MULTILINE), row
    assert "confusion (rows expected, columns predicted)" in out
    assert "validation_hard" not in out  # only the folder asked for


def _dense(text: str, kind: str) -> float:
    return features.extract(text).dense[features.DENSE_KINDS.index(kind)]


def test_an_emoji_ends_a_greeting_as_punctuation_does() -> None:
    evidence = features.extract('בוקר טוב 🙂 מה דעתך על הנאסד"ק היום?')
    assert evidence.tokens[:2] == ("מה", "דעתך")
    assert evidence.dense[features.DENSE_KINDS.index("greeting")] == 1.0
    assert features.extract("hey 👋 is NVDA a buy here?").tokens[:2] == ("is", "nvda")


def test_a_small_remark_before_the_real_question_is_set_aside() -> None:
    evidence = features.extract("before I get back to the deploy: any quick pasta recipe?")
    assert evidence.tokens[0] == "any" and "deploy" not in evidence.tokens


def test_code_syntax_beside_a_market_word_is_marked() -> None:
    assert _dense("is this right? `vol = df.ret.std() * 16` for the volatility", "market-in-code")
    assert not _dense("why is volatility so high this week?", "market-in-code")
    assert not _dense("fix this: `total = sum(x)`", "market-in-code")


def test_a_choice_between_everyday_things_is_marked() -> None:
    assert _dense("Kindle or iPad for reading on the train, worth it?", "everyday-choice")
    assert not _dense("should I buy more stocks or bonds?", "everyday-choice")
    assert not _dense("docker or a vm for our prod server, which one?", "everyday-choice")


def test_two_quoted_words_offered_as_alternatives_are_a_word_choice() -> None:
    assert _dense('is it "drawdown" or "draw-down" in a title?', "word-choice")
    assert _dense("when do you use 'fewer' vs 'less'", "word-choice")
    assert not _dense('should I buy "the dip" now?', "word-choice")


@pytest.mark.parametrize(
    ("text", "task"),
    [
        ('היי 🙂 מה דעתך על הנאסד"ק? נראה לי שהוא מתנפח', "analysis"),
        ("does the Santa Claus rally still show up in the data?", "analysis"),
        (
            "my breakout strategy shines in the backtest, "
            "how do I tell overfitting from a real edge?",
            "analysis",
        ),
        ('יש לי 80 אלף בעו"ש, מה הכי נכון לעשות איתם?', "analysis"),
        (
            "does this compute the win rate right: "
            "wins = trades[trades.pnl > 0].count() / len(trades)",
            "code",
        ),
        ("the SSL certificate on our site keeps expiring, how do we automate renewal?", "code"),
        ("האתר שלנו נופל כל לילה בשתיים, מאיפה מתחילים לבדוק?", "code"),
        ("hey 👋 how much should I tip a taxi driver in Rome, 10 or 15 percent?", "quick"),
        ("used Honda Civic or a new Kia Rio for a first car?", "quick"),
        ("קורס צילום אונליין או פרונטלי, מה עדיף?", "quick"),
        ("איך כותבים נכון, דיבידנד או דבידנד?", "quick"),
        ("before I get back to the migration: any quick recipe with chickpeas?", "quick"),
        ("my royal python won't eat frozen mice, any tips?", "quick"),
    ],
)
def test_hard_kinds_of_round_three_b(text: str, task: str) -> None:
    decided, reason = classify_text(text)
    assert decided == task, reason


def test_a_hebrew_word_whose_first_letter_is_no_prefix_is_read_whole() -> None:
    # למכור is to sell (not ל + מכור, addicted), לגור to live (not ל + גור, a puppy), למטבע
    # to a coin (not ל + מ + טבע, Teva); other words keep their prefixes cut (לשוק).
    words = features.extract("כדאי למכור עכשיו ולגור ליד הים? ולשוק, למטבע").words
    assert "מכור" not in words.get("everyday", ())
    assert "naming" not in words
    assert "market-entity" not in words
    assert words["market-term"] == ("שוק",)


def test_equity_pay_relationships_and_interviews_are_read_in_mixed_text() -> None:
    words = features.extract("ESPP בחברה, RSU עם vesting רבעוני").words
    assert words["market-term"] == ("espp", "rsu", "vesting")
    assert features.extract("ISOs או סעיף 102?").words["market-term"] == ("isos", "סעיף 102")
    found = features.extract("היא רוצה שנעבור לגור יחד, ויש לי interview מחר, smart casual?")
    assert found.words["everyday"] == ("לגור יחד", "interview", "smart casual")
    assert found.dense[features.DENSE_KINDS.index("mixed-language")] == 1.0


@pytest.mark.parametrize(
    ("text", "task"),
    [
        ("קיבלתי RSU מהחברה, למכור ברגע שהן מבשילות או להחזיק?", "analysis"),
        ("Should I early exercise my ISOs before the 409A goes up?", "analysis"),
        ("אנחנו ביחד שנתיים והוא עדיין לא מוכן להתחייב, לגור יחד זה צעד גדול מדי?", "quick"),
        ("מה ללבוש לראיון עבודה בבנק? smart casual או חליפה?", "quick"),
        ("what to wear to a job interview at a fintech, is smart casual enough?", "quick"),
        ("ה-deploy נופל ב-CI אחרי ה-commit האחרון, איך בודקים למה?", "code"),
    ],
)
def test_mixed_kinds_of_round_three_c(text: str, task: str) -> None:
    decided, reason = classify_text(text)
    assert decided == task, reason


def test_a_strategy_judged_without_a_line_of_code_is_marked_apart_from_code() -> None:
    kind = features.DENSE_KINDS.index("analysis-of-code")
    judged = features.extract("the backtest looks great, is it overfitting or a real edge?")
    assert judged.dense[kind] == 1.0
    written = features.extract("is this overfitting? sharpe = returns.mean() / returns.std()")
    assert written.dense[kind] == 0.0  # code syntax: market-in-code instead
    assert written.dense[features.DENSE_KINDS.index("market-in-code")] == 1.0
