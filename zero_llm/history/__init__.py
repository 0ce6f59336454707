"""Conversation memory in SQL: SQLite by default, PostgreSQL for scale, encrypted on request."""

from zero_llm.history.adapter import ZeroChatMessageHistory
from zero_llm.history.crypto import generate_key
from zero_llm.history.importer import ImportReport, import_sql_chat_history
from zero_llm.history.store import HistoryStore, NewMessage, SessionInfo, StoredMessage
from zero_llm.history.sync import SyncHistoryStore

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
