"""LangChain's message conversions for the history store, imported on first use.

In: a stored row's role, text and extra fields, or a LangChain message. Out: the
LangChain message, or its ``data`` dict. ``langchain_core`` is imported only when a
message is converted, so a command that only lists or reads the history (``zero-llm
sessions list``) never loads LangChain.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage

__all__ = ["PLAIN_CLASSES", "message_to_dict", "messages_from_dict"]


def message_to_dict(message: BaseMessage) -> dict[str, Any]:
    """LangChain's ``message_to_dict``: ``{"type": ..., "data": {...}}``."""
    from langchain_core.messages import message_to_dict as convert

    return convert(message)


def messages_from_dict(messages: list[dict[str, Any]]) -> list[BaseMessage]:
    """LangChain's ``messages_from_dict``: the messages ``message_to_dict`` made."""
    from langchain_core.messages import messages_from_dict as convert

    return convert(messages)


class _PlainClasses(Mapping[str, "type[BaseMessage]"]):
    """The message class of each plain role (human, ai, system), looked up on first use."""

    def _classes(self) -> dict[str, type[BaseMessage]]:
        from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

        return {"human": HumanMessage, "ai": AIMessage, "system": SystemMessage}

    def __getitem__(self, role: str) -> type[BaseMessage]:
        return self._classes()[role]

    def __iter__(self) -> Iterator[str]:
        return iter(("human", "ai", "system"))

    def __len__(self) -> int:
        return 3


PLAIN_CLASSES: Mapping[str, type[BaseMessage]] = _PlainClasses()
"""Role -> LangChain message class for the roles stored without extra fields."""
