"""What the history hands back: stored messages and session info, made from rows.

In: a row of ``zl_messages`` or ``zl_sessions`` (a SQLAlchemy row, or a standard-library
``sqlite3`` row with its times already parsed) and the store's cipher. Out: a
``StoredMessage`` or a ``SessionInfo``, sealed text opened. Light to import (no
SQLAlchemy, no LangChain until a message is converted): the history store and the record
commands' SQLite reader (``zero_llm.sqlite_records``) both make their answers here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from zero_llm.history.crypto import ENCRYPTED_PREFIX, TextCipher
from zero_llm.history.lc_messages import PLAIN_CLASSES, messages_from_dict
from zero_llm.timestamps import utc

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage

__all__ = [
    "MESSAGE_COLUMNS",
    "SessionInfo",
    "StoredMessage",
    "open_session_texts",
    "session_info",
    "stored_message",
]

MESSAGE_COLUMNS = (
    "session_id",
    "seq",
    "role",
    "content",
    "reasoning",
    "encrypted",
    "model",
    "task",
    "token_count",
    "complete",
    "created_at",
    "extra",
)
"""The ``zl_messages`` columns a stored message is read from, in this order."""


@dataclass(frozen=True)
class StoredMessage:
    """A message as stored."""

    session_id: str
    seq: int
    role: str
    content: str
    reasoning: str | None
    model: str | None
    task: str | None
    token_count: int
    complete: bool
    created_at: datetime
    extra: dict[str, Any] = field(default_factory=dict)

    def to_message(self) -> BaseMessage:
        """The LangChain message (the reasoning is not part of it: it is never resent)."""
        plain = PLAIN_CLASSES.get(self.role)
        if plain is not None and not self.extra:
            return plain(content=self.content)
        data = {**self.extra, "content": self.content}
        return messages_from_dict([{"type": self.role, "data": data}])[0]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict of the message, reasoning included."""
        return {
            "seq": self.seq,
            "role": self.role,
            "content": self.content,
            "reasoning": self.reasoning,
            "model": self.model,
            "task": self.task,
            "token_count": self.token_count,
            "complete": self.complete,
            "created_at": self.created_at.isoformat(),
            "extra": self.extra,
        }


@dataclass(frozen=True)
class SessionInfo:
    """A conversation and its counters."""

    id: str
    title: str | None
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    message_count: int
    total_tokens: int


def stored_message(row: Any, cipher: TextCipher) -> StoredMessage:
    """A ``zl_messages`` row (its columns in ``MESSAGE_COLUMNS`` order) as a message."""
    (
        session_id,
        seq,
        role,
        content,
        reasoning,
        encrypted,
        model,
        task,
        token_count,
        complete,
        created_at,
        extra_text,
    ) = row
    if extra_text and extra_text.startswith(ENCRYPTED_PREFIX):
        extra_text = cipher.open(extra_text, True)
    extra = json.loads(extra_text) if extra_text and extra_text != "{}" else {}
    content = cipher.open(content, encrypted)
    if extra.pop("content_json", False):
        content = json.loads(content)
    reasoning = cipher.open(reasoning, encrypted) if reasoning else None
    if extra.pop("reasoning_json", False) and reasoning is not None:
        reasoning = json.loads(reasoning)
    return StoredMessage(
        session_id,
        int(seq),
        role,
        content,
        reasoning,
        model,
        task,
        int(token_count),
        bool(complete),
        utc(created_at),
        extra,
    )


def session_info(row: Any, cipher: TextCipher) -> SessionInfo:
    """A ``zl_sessions`` row as the session's info, its title and metadata opened."""
    title, metadata = open_session_texts(row, cipher)
    return SessionInfo(
        id=row.id,
        title=title,
        metadata=metadata,
        created_at=utc(row.created_at),
        updated_at=utc(row.updated_at),
        message_count=int(row.message_count),
        total_tokens=int(row.total_tokens),
    )


def open_session_texts(row: Any, cipher: TextCipher) -> tuple[str | None, dict[str, Any]]:
    """A session row's title and metadata, decrypted if they were stored encrypted."""
    encrypted = bool(row.encrypted)
    title = cipher.open(row.title, encrypted) if row.title is not None else None
    raw = row.metadata or "{}"
    if raw != "{}":
        raw = cipher.open(raw, encrypted)
    return title, json.loads(raw)
