"""Conversation memory in SQL: SQLite by default, PostgreSQL for scale, encrypted on request.

Each public name is imported from its module on first use (PEP 562 ``__getattr__``), so
reading the history (``zero_llm.history.store``) never loads LangChain's chat-history
adapter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zero_llm.lazy_names import import_lazily

if TYPE_CHECKING:  # the names as type checkers and IDEs see them
    from zero_llm.history.adapter import ZeroChatMessageHistory
    from zero_llm.history.crypto import generate_key
    from zero_llm.history.importer import ImportReport, import_sql_chat_history
    from zero_llm.history.store import HistoryStore, NewMessage, SessionInfo, StoredMessage
    from zero_llm.history.sync import SyncHistoryStore

_EXPORTS: dict[str, str] = {
    "HistoryStore": "zero_llm.history.store",
    "ImportReport": "zero_llm.history.importer",
    "NewMessage": "zero_llm.history.store",
    "SessionInfo": "zero_llm.history.store",
    "StoredMessage": "zero_llm.history.store",
    "SyncHistoryStore": "zero_llm.history.sync",
    "ZeroChatMessageHistory": "zero_llm.history.adapter",
    "generate_key": "zero_llm.history.crypto",
    "import_sql_chat_history": "zero_llm.history.importer",
}
"""Each public name and the module that defines it."""

__all__ = [
    "HistoryStore",
    "ImportReport",
    "NewMessage",
    "SessionInfo",
    "StoredMessage",
    "SyncHistoryStore",
    "ZeroChatMessageHistory",
    "generate_key",
    "import_sql_chat_history",
]


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use, then keep it here."""
    return import_lazily(name, __name__, _EXPORTS, globals())


def __dir__() -> list[str]:
    """The public names, imported or not."""
    return sorted({*globals(), *__all__})
