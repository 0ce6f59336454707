"""``SyncHistoryStore``: the history store for scripts and notebooks, over the async core.

Each method is the blocking twin of ``HistoryStore``'s method of the same name, made by
``zero_llm.sync_twins`` (no body is written twice): it runs the store's coroutine on the
sync bridge whose loop owns the database's connections.
"""

from __future__ import annotations

from zero_llm.history.store import HistoryStore
from zero_llm.sync_bridge import SyncBridge
from zero_llm.sync_twins import sync_twin_of

__all__ = ["SyncHistoryStore"]


class SyncHistoryStore:
    """Blocking twins of ``HistoryStore``'s methods (they run its coroutines)."""

    def __init__(self, store: HistoryStore, bridge: SyncBridge | None = None) -> None:
        self.store = store
        self.bridge = bridge or store.database.bridge

    append = sync_twin_of("store", HistoryStore.append)
    window = sync_twin_of("store", HistoryStore.window)
    messages = sync_twin_of("store", HistoryStore.messages)
    sessions = sync_twin_of("store", HistoryStore.sessions)
    session = sync_twin_of("store", HistoryStore.session)
    update_session = sync_twin_of("store", HistoryStore.update_session)
    delete_session = sync_twin_of("store", HistoryStore.delete_session)
    export_session = sync_twin_of("store", HistoryStore.export_session)
    apply_retention = sync_twin_of("store", HistoryStore.apply_retention)
    close = sync_twin_of("store", HistoryStore.close)
