"""ZERO's ready chains, each ``build(manager, ...) -> Runnable`` on ``ModelManager``'s router.

- ``zero_llm.chains.trading``: trading analysis on the reasoning model, as a ``TradingView``.
- ``zero_llm.chains.code``: the code assistant on the code model, in generate or review mode.
- ``zero_llm.chains.quick``: quick answers on the default model.
- ``zero_llm.chains.summarizer``: summaries of a conversation (what the window drops, say).
"""

from zero_llm.chains import code, quick, summarizer, trading

__all__ = ["code", "quick", "summarizer", "trading"]
