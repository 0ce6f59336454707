"""Word lists the classifier uses as features: kinds of evidence, not the decision itself.

In: nothing. Out: terms (lowercase; one word or a phrase of up to three) of code, markets,
analysis and named market entities (companies, commodities, currencies, crypto), English
and Hebrew. ``zero_llm.routing.features`` matches them against whole tokens, so a term
inside another word (``שוק`` in ``שקשוקה``) never counts, while Hebrew one-letter
prefixes (ו ה ב כ ל מ ש) before a term are allowed.
"""

from __future__ import annotations

__all__ = [
    "ANALYSIS_PHRASES",
    "CODE_TERMS",
    "ENTITIES",
    "MARKET_TERMS",
    "NOT_TICKERS",
]

CODE_TERMS: tuple[str, ...] = tuple(
    [
        # English (lowercased text is searched)
        "code", "coding", "function", "functions", "method", "class", "compile", "compiler",
        "bug", "bugs", "debug", "refactor", "regex", "python", "javascript", "typescript",
        "java", "rust", "golang", "c++", "c#", "sql", "query", "api", "endpoint", "unit test",
        "unit tests", "pytest", "traceback", "exception", "script", "variable", "syntax",
        "implement", "git", "npm", "pip", "docker", "json", "yaml", "csv", "lambda", "async",
        "await", "segfault", "dataframe", "pandas", "numpy", "polars", "react", "node",
        "django", "flask", "fastapi", "bash", "shell", "dockerfile", "kubernetes", "kubectl",
        "repo", "commit", "branch", "merge conflict", "type hints", "docstring", "docstrings",
        "websocket", "backtest", "backtester", "pine script", "mql5", "mt4", "ccxt",
        "yfinance", "library", "module", "package", "loop", "array", "list comprehension",
        "dict", "string", "integer", "recursion", "algorithm", "stack trace",
        "html", "css", "cron", "cli", "sqlalchemy", "postgres", "mysql", "sqlite", "redis",
        # Hebrew and Hebrew transliterations of English terms
        "קוד", "קודים", "פונקציה", "פונקציות", "פונקציית", "פייתון", "באג", "באגים", "דיבאג",
        "לדבג", "תדבג", "סקריפט", "סקריפטים", "מחלקה", "מחלקות", "קלאס", "מתודה", "מתודות",
        "לולאה", "לולאת", "מערך", "מערכים", "משתנה", "משתנים", "ספרייה", "ספריות", "קומפיילר",
        "קומפילציה", "מתקמפל", "דאטאפריים", "פנדס", "ג'אווהסקריפט", "ג'אווה", "טייפסקריפט",
        "ריאקט", "דוקר", "גיט", "קומיט", "בראנץ'", "טסט", "טסטים", "שאילתה", "שאילתת",
        "רג'קס", "אקספשן", "דיפלוי", "רפקטורינג", "רפקטור", "אובייקט", "אובייקטים",
        "סינטקס", "אלגוריתם", "תכנות", "מתכנת", "טרייסבק", "אינדנטציה", "קונסטרקטור",
        "קומפוננטה", "רקורסיה", "רקורסיבית", "סטייט", "למבדה", "ממשק", "שגיאת",
    ]
)
"""Terms of programming: languages, tools, code nouns and verbs."""

MARKET_TERMS: tuple[str, ...] = tuple(
    [
        "stock", "stocks", "shares", "market", "markets", "trading", "portfolio", "earnings",
        "dividend", "dividends", "valuation", "bullish", "bearish", "forex", "crypto",
        "options", "futures", "calls", "puts", "etf", "etfs", "bond", "bonds", "treasury",
        "treasuries", "yield", "yields", "inflation", "recession", "fed", "rate cut",
        "rate cuts", "interest rates", "nasdaq", "s&p", "s&p 500", "dow", "index fund",
        "sector", "equities", "volatility", "hedge", "hedging", "short", "long term",
        "p/e", "eps", "guidance", "capex", "margins", "rally", "selloff", "sell-off",
        "correction", "bubble", "allocation", "rebalance", "drawdown", "leverage",
        "מניה", "מניות", "מניית", "מנית", "שוק", "שווקים", "שוקי", "בורסה", "בורסת",
        "בורסות", "מסחר", "השקעה", "השקעות", "השקעת", "להשקיע", "תיק השקעות", "אג\"ח",
        "ריבית", "ריביות", "אינפלציה", "מדד", "מדדים", "מדדי", "ביטקוין", "אתריום", "קריפטו",
        "דיבידנד", "דיבידנדים", "תשואה", "תשואות", "מכפיל", "סיכון", "סיכונים", "גידור",
        "לגדר", "שורי", "דובי", "פוזיציה", "מינוף", "ממונפות", "קרן סל", "קרנות סל",
        "קרן מחקה", "קרנות נאמנות", "אופציות", "אופציית", "חוזים עתידיים", "מיתון", "הפד",
        "נאסד\"ק", "וול סטריט", "שער הדולר", "שער", "דוחות", "הדוחות", "דוח רבעוני", "סקטור",
        "לממש", "מימוש", "שורט", "לונג", "ירידות", "זינוק",
    ]
)
"""Terms of markets and investing."""

ANALYSIS_PHRASES: tuple[str, ...] = tuple(
    [
        "analyze", "analyse", "analysis", "compare", "evaluate", "assess", "outlook",
        "bull case", "bear case", "overvalued", "undervalued", "time to buy",
        "buy the dip", "fair value", "risk/reward", "risk-reward", "upside", "downside",
        "take profits", "priced in", "buy or sell", "worth buying",
        "pros and cons", "trade-offs", "tradeoffs", "implications", "second-order",
        "scenario", "reason through", "think through", "step by step", "value trap",
        "your take", "your view", "do you think", "should i buy", "should i sell",
        "ניתוח", "תנתח", "נתח", "להשוות", "השווה", "השוואה", "תשווה", "כדאי לקנות",
        "לקנות או למכור", "קנייה או מכירה", "תרחיש", "הזדמנות קנייה", "יקרה מדי", "זולה",
        "מה דעתך", "דעתך", "תחזית", "לטווח ארוך", "שווי הוגן", "מחיר הוגן", "פוטנציאל",
        "השלכות", "ההשלכות", "היתרונות והחסרונות", "צעד אחר צעד", "מלכודת ערך", "להיכנס",
    ]
)
"""Words and phrases that ask for judgement: analyse, compare, bull case, is it a buy."""

ENTITIES: tuple[str, ...] = tuple(
    [
        # companies (English names, lowercased)
        "apple", "microsoft", "nvidia", "tesla", "amazon", "alphabet", "google", "meta",
        "facebook", "netflix", "intel", "amd", "broadcom", "qualcomm", "tsmc", "asml",
        "oracle", "salesforce", "adobe", "ibm", "cisco", "palantir", "snowflake", "shopify",
        "uber", "airbnb", "coinbase", "paypal", "visa", "mastercard", "jpmorgan",
        "goldman sachs", "morgan stanley", "bank of america", "wells fargo", "citigroup",
        "berkshire", "berkshire hathaway", "exxon", "chevron", "bp", "pfizer",
        "moderna", "eli lilly", "novo nordisk", "johnson & johnson", "unitedhealth",
        "walmart", "costco", "home depot", "mcdonald's", "starbucks", "nike",
        "coca-cola", "pepsico", "pepsi", "procter & gamble", "disney", "boeing", "airbus",
        "lockheed martin", "raytheon", "caterpillar", "deere", "ford", "gm", "general motors",
        "rivian", "lucid", "alibaba", "tencent", "baidu", "sony", "toyota", "samsung",
        "super micro", "micron", "dell", "spotify", "crowdstrike", "datadog",
        "palo alto networks", "teva", "elbit", "check point", "wix", "monday.com",
        "mobileye", "intuit", "servicenow", "chipotle", "sea limited", "mercadolibre",
        # commodities, currencies, crypto (English)
        "gold", "silver", "platinum", "palladium", "copper", "crude", "brent", "wti",
        "natural gas", "wheat", "soybeans", "cocoa", "uranium",
        "lithium", "iron ore", "dollar", "euro", "yen", "sterling", "franc", "yuan",
        "shekel", "rupee", "lira", "bitcoin", "ethereum", "solana", "cardano", "dogecoin",
        "polkadot", "ripple", "litecoin", "chainlink", "avalanche", "tether",
        # Hebrew names
        "אפל", "מיקרוסופט", "אנבידיה", "טסלה", "אמזון", "גוגל", "מטא", "נטפליקס", "אינטל",
        "פלנטיר", "שופיפיי", "ברקשייר", "אקסון", "שברון", "פייזר", "מודרנה", "וולמארט",
        "קוסטקו", "דיסני", "בואינג", "קוקה קולה", "פפסי", "נייקי", "סטארבקס", "עליבאבא",
        "טבע", "אלביט", "אלביט מערכות", "נייס", "צ'ק פוינט", "וויקס", "מובילאיי",
        "לאומי", "הפועלים", "בנק הפועלים", "דיסקונט", "מזרחי טפחות", "כלל ביטוח", "הראל",
        "פניקס", "אדובי", "ברודקום", "מייקרון", "אורקל", "קוינבייס", "סנופלייק",
        "זהב", "הזהב", "כסף", "פלטינה", "נחושת", "נפט", "הנפט", "ברנט", "גז טבעי", "חיטה",
        "קקאו", "אורניום", "ליתיום", "דולר", "הדולר", "יורו", "היורו", 
        "שקל", "השקל", "פאונד", "ליש\"ט", "פרנק", "יואן", "ביטקוין", "אתריום", "סולנה",
        "קרדנו", "דוג'קוין", "ריפל",
    ]
)
"""Names of companies, commodities, currencies and crypto assets users ask about."""

NOT_TICKERS = frozenset(
    """
    API APIS SQL JSON CSV HTTP HTTPS URL URLS CSS HTML CPU GPU RAM SSD AWS GCP EOF OK PDF XML
    YAML REST CLI SDK IDE UI UX DB ORM JWT SSH TCP UDP IP DNS CI CD PR NPM PIP JS TS ASAP FOMO
    USA UK EU NYC TV AI ML LLM GPT IO OS PHP VS CEO CFO PNL OHLCV RSI MACD EMA SMA ATR VWAP
    FIX DAX SSL TLS CRUD MVP FAQ DIY BBQ PM AM ID IDS ASCII UTF NULL NAN TODO README GET POST
    PUT DELETE PATCH HEAD CORS XSS GIT SVG PNG JPG GIF MP3 MP4 IOS AND OR NOT THE FOR OUT OF
    MT4 MT5 EA LOL OMG BTW IMO IMHO THX PS NO YES HI
    """.split()
)
"""All-capital words that are not tickers (technical acronyms, common words)."""

CURRENCY_CODES = frozenset(
    "USD EUR ILS JPY GBP CHF CNY CAD AUD NZD SEK NOK INR TRY MXN BRL ZAR HKD SGD KRW".split()
)
"""ISO codes of the currencies users trade most."""
