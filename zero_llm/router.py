"""Task routing: which model answers a request, and why.

In: an explicit task type, or the request text. Out: a ``RouteDecision`` (task, role,
model, reason). Explicit tasks are looked up case-insensitively in the catalog; with no
task a local classifier reads the text for code signals (fences, keywords, stack traces)
and analysis signals (markets, tickers, risk, strategy, "why"/"analyse"), in English and
Hebrew. Pure and fast: word-set look-ups and substring checks over at most 1 KB of text
(the head and the tail of a long one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from zero_llm.catalog import Catalog

__all__ = ["RouteDecision", "classify_text", "route"]

SCAN_LIMIT = 1024
"""Characters of a long text the classifier reads (its head and tail)."""

_PUNCTUATION = "!\"#%&'()*,-./:;<=>?@[\\]^_`{|}~0123456789"
_TICKER = re.compile(r"\$[A-Z]{1,5}\b")
_TRACE_MARKS = (
    "traceback (most recent call last)",
    '", line ',
    "\tat ",
    "\n    at ",
    "error:",
    "exception:",
    "panicked at",
)
_CODE_LINE_STARTS = (
    "def ",
    "class ",
    "import ",
    "from ",
    "#include",
    "package ",
    "fn ",
    "func ",
    "public ",
    "private ",
    "async def ",
    "function ",
    "const ",
    "let ",
    "var ",
    "return ",
    "SELECT ",
)
_CODE_MARKS = ("=>", "();", "){", ") {", "};", "!=", "==", "->", "::")
_CODE_WORDS = frozenset(
    [
        "code",
        "coding",
        "function",
        "method",
        "class",
        "compile",
        "compiler",
        "compiled",
        "bug",
        "bugs",
        "debug",
        "refactor",
        "regex",
        "python",
        "javascript",
        "typescript",
        "java",
        "rust",
        "golang",
        "c++",
        "sql",
        "api",
        "endpoint",
        "unittest",
        "pytest",
        "stacktrace",
        "traceback",
        "exception",
        "script",
        "variable",
        "syntax",
        "implement",
        "git",
        "npm",
        "pip",
        "docker",
        "json",
        "yaml",
        "lambda",
        "async",
        "await",
        "segfault",
        "nullpointerexception",
        "typeerror",
        "valueerror",
    ]
)
_MARKET_WORDS = frozenset(
    [
        "market",
        "markets",
        "stock",
        "stocks",
        "share",
        "shares",
        "trade",
        "trades",
        "trading",
        "trader",
        "portfolio",
        "risk",
        "risks",
        "volatility",
        "hedge",
        "hedging",
        "strategy",
        "strategies",
        "earnings",
        "price",
        "prices",
        "valuation",
        "bullish",
        "bearish",
        "forex",
        "crypto",
        "bitcoin",
        "btc",
        "eth",
        "options",
        "futures",
        "dividend",
        "dividends",
        "invest",
        "investing",
        "investment",
        "position",
        "positions",
        "rsi",
        "macd",
        "support",
        "resistance",
        "yield",
        "inflation",
        "nasdaq",
        "nyse",
        "spy",
        "qqq",
        "ticker",
        "equity",
        "equities",
        "bond",
        "bonds",
    ]
)
_WHY_WORDS = frozenset(
    [
        "why",
        "analyse",
        "analyze",
        "analysis",
        "compare",
        "evaluate",
        "assess",
        "implications",
        "implication",
        "tradeoff",
        "tradeoffs",
    ]
)
_PHRASES = (
    "moving average",
    "pros and cons",
    "step by step",
    "interest rate",
    "s&p",
    "trade-off",
    "reason about",
)
_HEBREW_MARKET = (
    "מניה",
    "מניות",
    "שוק",
    "מסחר",
    "סיכון",
    "אסטרטגי",
    "תיק השקעות",
    "השקע",
    "מטבע",
    "ביטקוין",
    "מדד",
    "בורסה",
)
_HEBREW_WHY = ("למה", "מדוע", "ניתוח", "נתח", "השווה", "הערך")
_HEBREW_CODE = ("קוד", "פונקציה", "באג", "סקריפט", "מחלקה", "תכנות")


@dataclass(frozen=True, slots=True)
class RouteDecision:
    """Where a request goes and why."""

    task: str
    role: str
    model: str
    reason: str
    explicit: bool
    sticky: bool = False


def _scan_window(text: str) -> str:
    if len(text) <= SCAN_LIMIT:
        return text
    head = SCAN_LIMIT * 3 // 4
    return text[:head] + "\n" + text[head - SCAN_LIMIT :]


def classify_text(text: str) -> tuple[str, str]:
    """Pick ``code``, ``analysis`` or ``quick`` for a text; return it with the reason."""
    window = _scan_window(text)
    lower = window.lower()
    words = [w.strip(_PUNCTUATION) for w in lower.split()]
    code: list[str] = []
    score = 0
    if "```" in window:
        code.append("code fence")
        score += 3
    if any(mark in lower for mark in _TRACE_MARKS):
        code.append("stack trace")
        score += 3
    starts = sum(1 for line in window.splitlines() if line.lstrip().startswith(_CODE_LINE_STARTS))
    marks = sum(1 for mark in _CODE_MARKS if mark in window)
    if starts or marks:
        code.append(f"code syntax x{starts + marks}")
        score += 2 * starts + marks
    code_words = [w for w in words if w in _CODE_WORDS]
    code_words += [w for w in _HEBREW_CODE if w in window]
    code_score = score + len(code_words)
    analysis: list[str] = _TICKER.findall(window) if "$" in window else []
    analysis_score = 2 * len(analysis)
    for w in words:
        if w in _MARKET_WORDS:
            analysis.append(w)
            analysis_score += 2
        elif w in _WHY_WORDS:
            analysis.append(w)
            analysis_score += 1
    for phrase in _PHRASES:
        if phrase in lower:
            analysis.append(phrase)
            analysis_score += 2
    if not window.isascii():
        for stem in _HEBREW_MARKET:
            if stem in window:
                analysis.append(stem)
                analysis_score += 2
        for stem in _HEBREW_WHY:
            if stem in window:
                analysis.append(stem)
                analysis_score += 1
    if code_score == 0 and analysis_score < 2:
        return "quick", "no code or analysis signals in the text"
    if code_score >= analysis_score:
        signals = code + [f"'{w}'" for w in code_words[:4]]
        return "code", "code signals: " + ", ".join(signals)
    return "analysis", "analysis signals: " + ", ".join(f"'{t}'" for t in analysis[:5])


def route(
    catalog: Catalog, *, task: str | None, text: str, current_role: str | None = None
) -> RouteDecision:
    """Decide the model for a request: by its explicit task, or by classifying its text.

    With ``current_role`` (the role the conversation is on), a message with no signal
    of its own stays on it.
    """
    if task is not None and task.strip():
        role = catalog.role_for_task(task)
        if role is None:
            role = catalog.default_role
            reason = f"unknown task {task!r}: the default model answers"
        else:
            reason = f"task {task!r} is routed to the {role} model"
        return RouteDecision(task.strip().lower(), role, catalog.models[role].name, reason, True)
    guessed, reason = classify_text(text)
    if guessed == "quick" and current_role is not None and current_role in catalog.models:
        model = catalog.models[current_role].name
        return RouteDecision(
            guessed, current_role, model, f"follow-up stays on {model}: {reason}", False, True
        )
    role = catalog.role_for_task(guessed) or catalog.default_role
    return RouteDecision(guessed, role, catalog.models[role].name, reason, False)
