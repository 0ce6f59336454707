"""``SyncHistoryStore``: the history store for scripts and notebooks, over the async core."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from zero_llm.history.store import HistoryStore, NewMessage, SessionInfo, StoredMessage
from zero_llm.sync_bridge import SyncBridge

__all__ = ["SyncHistoryStore"]


class SyncHistoryStore:
    """Blocking twins of ``HistoryStore``'s methods (they run its coroutines)."""

    def __init__(self, store: HistoryStore, bridge: SyncBridge | None = None) -> None:
        self.store = store
        self._bridge = bridge or store.database.bridge

    def append(self, session_id: str, messages: list[NewMessage]) -> list[int]:
        """Append messages to a session in one transaction."""
        return self._bridge.run(self.store.append(session_id, messages))

    def window(self, session_id: str, max_tokens: int) -> list[StoredMessage]:
        """The newest complete messages that fit ``max_tokens``."""
        return self._bridge.run(self.store.window(session_id, max_tokens))

    def messages(
        self, session_id: str, *, limit: int | None = None, before_seq: int | None = None
    ) -> list[StoredMessage]:
        """Messages of a session in order (all, or a page)."""
        return self._bridge.run(self.store.messages(session_id, limit=limit, before_seq=before_seq))

    def sessions(self, *, limit: int = 100, offset: int = 0) -> list[SessionInfo]:
        """Sessions, most recently updated first."""
        return self._bridge.run(self.store.sessions(limit=limit, offset=offset))

    def session(self, session_id: str) -> SessionInfo | None:
        """One session's info."""
        return self._bridge.run(self.store.session(session_id))

    def update_session(
        self, session_id: str, *, title: str | None = None, metadata: dict[str, Any] | None = None
    ) -> SessionInfo:
        """Rename a session and/or merge metadata into it."""
        return self._bridge.run(
            self.store.update_session(session_id, title=title, metadata=metadata)
        )

    def delete_session(self, session_id: str) -> bool:
        """Delete a session and its messages."""
        return self._bridge.run(self.store.delete_session(session_id))

    def export_session(self, session_id: str) -> dict[str, Any]:
        """A session and its messages as a JSON-ready dict."""
        return self._bridge.run(self.store.export_session(session_id))

    def apply_retention(
        self, *, max_age: timedelta | None = None, max_messages: int | None = None
    ) -> int:
        """Apply the retention rules; return how many messages were deleted."""
        return self._bridge.run(
            self.store.apply_retention(max_age=max_age, max_messages=max_messages)
        )

    def close(self) -> None:
        """Close the bridge loop's connection pool."""
        self._bridge.run(self.store.close())
