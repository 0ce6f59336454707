"""ZERO's ready chains, each ``build(manager, ...) -> Runnable`` on ``ModelManager``'s router.

- ``chains.trading``: trading analysis on the reasoning model, as a validated ``TradingView``.
- ``chains.code``: the code assistant on the code model, in generate or review mode.
- ``chains.quick``: quick answers on the default model.
- ``chains.summarizer``: summaries of a conversation (what the window drops, say).
"""

from chains import code, quick, summarizer, trading

__all__ = ["code", "quick", "summarizer", "trading"]
