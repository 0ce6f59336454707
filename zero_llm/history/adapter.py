"""A ``BaseChatMessageHistory`` over ``HistoryStore``, for code that still expects one."""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.messages import BaseMessage

from zero_llm.history.store import HistoryStore, NewMessage, check_session_id
from zero_llm.tokens import EstimatingCounter, TokenCounter, overhead_for_template

__all__ = ["ZeroChatMessageHistory"]


class ZeroChatMessageHistory(BaseChatMessageHistory):
    """One session of a ``HistoryStore`` as LangChain's chat message history.

    Args:
        store: the store.
        session_id: the session.
        counter: counts tokens of added messages (default: the conservative estimate).
    """

    def __init__(
        self, store: HistoryStore, session_id: str, counter: TokenCounter | None = None
    ) -> None:
        self.store = store
        self.session_id = check_session_id(session_id)
        self.counter = counter or EstimatingCounter(overhead_for_template(None))
        self.bridge = store.database.bridge

    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]
        """All messages of the session, in order."""
        return self.bridge.run(self.aget_messages())

    async def aget_messages(self) -> list[BaseMessage]:
        """All messages of the session, in order."""
        return [m.to_message() for m in await self.store.messages(self.session_id)]

    async def aadd_messages(self, messages: Sequence[BaseMessage]) -> None:
        """Append messages (in one transaction)."""
        counts = self.counter.count_messages(messages)
        await self.store.append(
            self.session_id,
            [NewMessage(m, count) for m, count in zip(messages, counts, strict=True)],
        )

    async def aclear(self) -> None:
        """Delete the session."""
        await self.store.delete_session(self.session_id)

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        """Append messages (LangChain's sync interface: ``aadd_messages`` on the bridge)."""
        self.bridge.run(self.aadd_messages(messages))

    def clear(self) -> None:
        """Delete the session (LangChain's sync interface: ``aclear`` on the bridge)."""
        self.bridge.run(self.aclear())
