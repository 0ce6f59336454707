"""``HistoryStore``: conversations in SQL, on SQLAlchemy 2's asyncio engine.

In: sessions and messages (LangChain messages with their token counts, model, task and
the reasoning kept apart). Out: the newest messages that fit a token budget (one index
range scan over the running token sum), pages of a session, session listings, JSON
exports, retention. SQLite (a real file, owner-only permissions, WAL, writers serialized
with ``BEGIN IMMEDIATE``) is the default; PostgreSQL (asyncpg) scales it out, with the
session row locked while a turn is appended. Session ids are always bound parameters.
Every SQLAlchemy error leaves as a ``StorageError``; a failed write stores nothing.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, delete, func, insert, select, update

from zero_llm.checks import check_session_id, check_text
from zero_llm.database import Database, on_database_loop
from zero_llm.errors import InvalidRequestError
from zero_llm.history.crypto import TextCipher
from zero_llm.history.keys import KeyGuard
from zero_llm.history.lc_messages import message_to_dict
from zero_llm.history.rows import (
    MESSAGE_COLUMNS,
    SessionInfo,
    StoredMessage,
    open_session_texts,
    session_info,
    stored_message,
)
from zero_llm.schema import zl_messages
from zero_llm.schema import zl_sessions as sessions_table
from zero_llm.timestamps import now
from zero_llm.usage.ledger import insert_usage
from zero_llm.usage.record import UsageRecord

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage

    from zero_llm.database import Connection

__all__ = [
    "HistoryStore",
    "NewMessage",
    "SessionInfo",
    "StoredMessage",
    "check_metadata",
    "check_session_id",
]

ROLES = frozenset({"human", "ai", "system", "tool", "chat", "function"})
_MESSAGE_COLUMNS = [zl_messages.c[name] for name in MESSAGE_COLUMNS]



def sessions_query(limit: int, offset: int) -> Select[Any]:
    """A page of sessions, most recently updated first (``HistoryStore.sessions``)."""
    return (
        select(sessions_table)
        .order_by(sessions_table.c.updated_at.desc(), sessions_table.c.id)
        .limit(limit)
        .offset(offset)
    )


def session_query(session_id: str) -> Select[Any]:
    """One session by id (``HistoryStore.session``)."""
    return select(sessions_table).where(sessions_table.c.id == session_id)


def messages_query(
    session_id: str, *, limit: int | None = None, before_seq: int | None = None
) -> Select[Any]:
    """A session's messages: all in order, or the ``limit`` newest (``HistoryStore.messages``)."""
    m = zl_messages
    query = select(*_MESSAGE_COLUMNS).where(m.c.session_id == session_id)
    if before_seq is not None:
        query = query.where(m.c.seq < before_seq)
    if limit is not None:
        return query.order_by(m.c.seq.desc()).limit(limit)
    return query.order_by(m.c.seq)


METADATA_MAX_DEPTH = 32
"""How deeply session metadata may nest (dicts and lists)."""
METADATA_MAX_BYTES = 64 * 1024
"""The most bytes session metadata may take as JSON."""
TITLE_MAX_CHARS = 1000
"""The longest session title."""


def check_metadata(metadata: Any) -> dict[str, Any]:
    """Session metadata as it will be stored: a JSON object, bounded in depth and size.

    Raises InvalidRequestError naming what is wrong (never a RecursionError or a
    serializer's TypeError from deep inside).
    """
    if not isinstance(metadata, dict):
        raise InvalidRequestError(f"metadata must be a dict, got {type(metadata).__name__}")
    stack: list[tuple[Any, int]] = [(metadata, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list | tuple):
            if depth > METADATA_MAX_DEPTH:
                raise InvalidRequestError(f"metadata nests deeper than {METADATA_MAX_DEPTH} levels")
            if isinstance(value, dict):
                for key in value:
                    if not isinstance(key, str):
                        raise InvalidRequestError(
                            f"metadata keys must be strings, got {type(key).__name__}"
                        )
                children = list(value.values())
            else:
                children = list(value)
            stack.extend((child, depth + 1) for child in children)
    try:
        text = json.dumps(metadata, default=str, allow_nan=False)
    except (TypeError, ValueError) as exc:  # NaN and infinities are not JSON either
        raise InvalidRequestError(f"metadata is not JSON-serializable: {exc}") from exc
    if len(text.encode()) > METADATA_MAX_BYTES:
        raise InvalidRequestError(
            f"metadata takes {len(text.encode())} bytes as JSON; at most {METADATA_MAX_BYTES}"
        )
    return dict(json.loads(text))


@dataclass(frozen=True)
class NewMessage:
    """A message to append, with what is known about it."""

    message: BaseMessage
    token_count: int
    model: str | None = None
    task: str | None = None
    reasoning: str | None = None
    complete: bool = True


class HistoryStore:
    """Conversation memory in SQL (async; see ``SyncHistoryStore`` for scripts).

    Args:
        url: an async SQLAlchemy URL (``sqlite+aiosqlite:///path.sqlite3`` or
            ``postgresql+asyncpg://user@host/db``), or a ``Database`` shared with others.
        key: a Fernet key to encrypt at rest every text a message carries (content,
            reasoning, tool-call arguments, names, artifacts), session titles and metadata,
            and the error text of usage records written with a turn (None: plain). The
            database keeps the key's check value: another key, or none, cannot write.
        busy_timeout: seconds a SQLite writer waits for another to finish.
    """

    def __init__(
        self, url: str | Database, *, key: str | None = None, busy_timeout: float = 30.0
    ) -> None:
        self.database = url if isinstance(url, Database) else Database.for_url(url, busy_timeout)
        self.url = self.database.url
        self._cipher = TextCipher(key)
        self._guard = KeyGuard(self.database, self._cipher)

    @asynccontextmanager
    async def _transaction(
        self, *, read_only: bool = False, for_writing: bool = False
    ) -> AsyncIterator[Connection]:
        """A transaction, once the store's key is known to be the database's own."""
        await self._guard.ensure(writing=for_writing or not read_only)
        async with self.database.transaction(read_only=read_only) as connection:
            if not read_only:  # and the database is still as that check found it
                await self._guard.check_write(connection)
            yield connection

    async def close(self) -> None:
        """Close the running loop's connection pool."""
        await self.database.close()

    @on_database_loop
    async def check_writable(self) -> None:
        """Raise ``StorageError`` if this store may not write to its database.

        That is when its key is not the database's, it has none for an encrypted one, or
        a key rotation is unfinished.
        """
        await self._guard.ensure(writing=True)

    @property
    def encrypted(self) -> bool:
        """Whether new text is encrypted at rest."""
        return self._cipher.enabled

    # --------------------------------------------------------------- writes
    @on_database_loop
    async def append(
        self,
        session_id: str,
        messages: Sequence[NewMessage],
        *,
        usage: UsageRecord | None = None,
    ) -> list[int]:
        """Append messages to a session in one transaction; return their sequence numbers.

        With ``usage``, the call's usage record is written in the same transaction: the
        turn and its record are stored together or not at all.
        """
        session_id = check_session_id(session_id)
        if not messages:
            if usage is not None:
                async with self._transaction() as connection:
                    await insert_usage(connection, [usage], self._cipher)
            return []
        for new in messages:
            if new.message.type not in ROLES:
                raise InvalidRequestError(f"cannot store a message of type {new.message.type!r}")
            if new.token_count < 0:
                raise InvalidRequestError("token_count cannot be negative")
        rows = [self._row(new) for new in messages]
        async with self._transaction() as connection:
            stamp = now()
            state = await self._lock_session(connection, session_id, stamp)
            seq, total = state
            values = []
            for offset, (new, row) in enumerate(zip(messages, rows, strict=True)):
                values.append(
                    {
                        **row,
                        "session_id": session_id,
                        "seq": seq + offset,
                        "tokens_before": total,
                        "created_at": stamp,
                    }
                )
                total += new.token_count
            await connection.execute(insert(zl_messages), values)
            await connection.execute(
                update(sessions_table)
                .where(sessions_table.c.id == session_id)
                .values(
                    next_seq=seq + len(values),
                    total_tokens=total,
                    message_count=sessions_table.c.message_count + len(values),
                    updated_at=stamp,
                )
            )
            if usage is not None:
                await insert_usage(connection, [usage], self._cipher)
        return [v["seq"] for v in values]

    def _row(self, new: NewMessage) -> dict[str, Any]:
        data = message_to_dict(new.message)["data"]
        content = data.pop("content")
        text = content if isinstance(content, str) else json.dumps(content)
        if not isinstance(content, str) or "\x00" in text:
            # JSON spells NUL as \u0000: PostgreSQL's text cannot hold the character itself,
            # and both backends must store (and give back) the same text.
            text = json.dumps(content) if "\x00" in text else text
            data["content_json"] = True
        reasoning = new.reasoning
        if reasoning and "\x00" in reasoning:
            reasoning = json.dumps(reasoning)
            data["reasoning_json"] = True
        extra = json.dumps({k: v for k, v in data.items() if v not in (None, {}, [])}, default=str)
        if extra != "{}":  # tool-call arguments, names, artifacts: sealed like the content
            extra = self._cipher.seal(extra)
        return {
            "role": new.message.type,
            "content": self._cipher.seal(text),
            "reasoning": self._cipher.seal(reasoning) if reasoning else None,
            "encrypted": self._cipher.enabled,
            "model": new.model,
            "task": new.task,
            "token_count": new.token_count,
            "complete": new.complete,
            "extra": extra,
        }

    async def _lock_session(
        self, connection: Connection, session_id: str, now: datetime
    ) -> tuple[int, int]:
        """Create the session if new, lock its row; return (next seq, total tokens)."""
        table = sessions_table
        if connection.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as upsert
        else:
            from sqlalchemy.dialects.sqlite import insert as upsert  # type: ignore[assignment]
        await connection.execute(
            upsert(table)
            .values(
                id=session_id,
                title=None,
                metadata="{}",
                encrypted=False,
                created_at=now,
                updated_at=now,
                message_count=0,
                next_seq=1,
                total_tokens=0,
            )
            .on_conflict_do_nothing(index_elements=[table.c.id])
        )
        query = select(table.c.next_seq, table.c.total_tokens).where(table.c.id == session_id)
        if connection.dialect.name == "postgresql":
            query = query.with_for_update()
        row = (await connection.execute(query)).one()
        return int(row.next_seq), int(row.total_tokens)

    # ---------------------------------------------------------------- reads
    @on_database_loop
    async def window(self, session_id: str, max_tokens: int) -> list[StoredMessage]:
        """The newest complete messages whose stored token counts fit ``max_tokens``, in order.

        One range scan over the running token sum: the session is never read whole. The
        window is read to answer a turn that will then be stored, so a store that may not
        write to this database (no key, or another key) is refused here, before the model
        is asked.
        """
        session_id = check_session_id(session_id)
        if max_tokens <= 0:
            return []
        m, s = zl_messages, sessions_table
        total = select(s.c.total_tokens).where(s.c.id == session_id).scalar_subquery()
        query = (
            select(*_MESSAGE_COLUMNS)
            .where(m.c.session_id == session_id)
            .where(m.c.tokens_before >= total - max_tokens)
            .where(m.c.complete.is_(True))
            .order_by(m.c.seq)
        )
        async with self._transaction(read_only=True, for_writing=True) as connection:
            rows = (await connection.execute(query)).all()
        return [stored_message(row, self._cipher) for row in rows]

    @on_database_loop
    async def last_model(self, session_id: str) -> str | None:
        """The model that wrote the session's newest answer, or None (no answer yet)."""
        session_id = check_session_id(session_id)
        m = zl_messages
        query = (
            select(m.c.model)
            .where(m.c.session_id == session_id)
            .where(m.c.model.is_not(None))
            .order_by(m.c.seq.desc())
            .limit(1)
        )
        async with self._transaction(read_only=True) as connection:
            return (await connection.execute(query)).scalar_one_or_none()

    @on_database_loop
    async def messages(
        self, session_id: str, *, limit: int | None = None, before_seq: int | None = None
    ) -> list[StoredMessage]:
        """Messages of a session in order: all, or the ``limit`` newest before ``before_seq``."""
        query = messages_query(check_session_id(session_id), limit=limit, before_seq=before_seq)
        async with self._transaction(read_only=True) as connection:
            rows = (await connection.execute(query)).all()
        stored = [stored_message(row, self._cipher) for row in rows]
        return sorted(stored, key=lambda s: s.seq) if limit is not None else stored

    @on_database_loop
    async def sessions(self, *, limit: int = 100, offset: int = 0) -> list[SessionInfo]:
        """Sessions, most recently updated first."""
        async with self._transaction(read_only=True) as connection:
            rows = (await connection.execute(sessions_query(limit, offset))).all()
        return [session_info(row, self._cipher) for row in rows]

    @on_database_loop
    async def session(self, session_id: str) -> SessionInfo | None:
        """One session's info, or None if there is no such session."""
        query = session_query(check_session_id(session_id))
        async with self._transaction(read_only=True) as connection:
            row = (await connection.execute(query)).one_or_none()
        return session_info(row, self._cipher) if row is not None else None

    # ------------------------------------------------------------- sessions
    @on_database_loop
    async def update_session(
        self,
        session_id: str,
        *,
        title: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> SessionInfo:
        """Rename a session and/or merge metadata into it (creating it if new)."""
        session_id = check_session_id(session_id)
        if title is not None:
            check_text(title, "title", allow_empty=True)
            if "\x00" in title:
                raise InvalidRequestError("title cannot contain NUL characters")
            if len(title) > TITLE_MAX_CHARS:
                raise InvalidRequestError(
                    f"title has {len(title)} characters; at most {TITLE_MAX_CHARS}"
                )
        if metadata is not None:
            metadata = check_metadata(metadata)
        async with self._transaction() as connection:
            await self._lock_session(connection, session_id, now())
            current = (
                await connection.execute(
                    select(sessions_table).where(sessions_table.c.id == session_id)
                )
            ).one()
            old_title, old_metadata = open_session_texts(current, self._cipher)
            merged = old_metadata if metadata is None else {**old_metadata, **metadata}
            # Title and metadata are sealed together, so the row is wholly one or the other.
            new_title = title if title is not None else old_title
            values: dict[str, Any] = {
                "updated_at": now(),
                "title": self._cipher.seal(new_title) if new_title is not None else None,
                "metadata": self._cipher.seal(json.dumps(merged)) if merged else "{}",
                "encrypted": self._cipher.enabled,
            }
            await connection.execute(
                update(sessions_table).where(sessions_table.c.id == session_id).values(**values)
            )
        info = await self.session(session_id)
        assert info is not None
        return info

    @on_database_loop
    async def delete_session(self, session_id: str) -> bool:
        """Delete a session and its messages; False if there was no such session."""
        session_id = check_session_id(session_id)
        async with self._transaction() as connection:
            await connection.execute(
                delete(zl_messages).where(zl_messages.c.session_id == session_id)
            )
            result = await connection.execute(
                delete(sessions_table).where(sessions_table.c.id == session_id)
            )
        return bool(result.rowcount)

    @on_database_loop
    async def export_session(self, session_id: str) -> dict[str, Any]:
        """A session and all its messages as a JSON-ready dict."""
        info = await self.session(session_id)
        if info is None:
            raise InvalidRequestError(f"there is no session {session_id!r}")
        messages = await self.messages(session_id)
        return {
            "id": info.id,
            "title": info.title,
            "metadata": info.metadata,
            "created_at": info.created_at.isoformat(),
            "updated_at": info.updated_at.isoformat(),
            "total_tokens": info.total_tokens,
            "messages": [m.to_json() for m in messages],
        }

    @on_database_loop
    async def apply_retention(
        self, *, max_age: timedelta | None = None, max_messages: int | None = None
    ) -> int:
        """Apply retention: drop idle sessions and each session's oldest messages.

        Sessions not updated for ``max_age`` go whole; in the others, messages past the
        newest ``max_messages`` go. Returns how many messages were deleted.
        """
        if max_age is not None and (
            not isinstance(max_age, timedelta) or max_age < timedelta(0)
        ):
            raise InvalidRequestError(
                f"max_age must be a timedelta of zero or more, got {max_age!r} (a negative "
                "age would put the cut-off in the future and delete every session)"
            )
        if max_messages is not None and (
            isinstance(max_messages, bool) or not isinstance(max_messages, int) or max_messages < 0
        ):
            raise InvalidRequestError(
                f"max_messages must be a whole number of zero or more, got {max_messages!r}"
            )
        deleted = 0
        m, s = zl_messages, sessions_table
        async with self._transaction() as connection:
            if max_age is not None:
                cutoff = now() - max_age
                old = select(s.c.id).where(s.c.updated_at < cutoff)
                result = await connection.execute(delete(m).where(m.c.session_id.in_(old)))
                deleted += result.rowcount or 0
                await connection.execute(delete(s).where(s.c.updated_at < cutoff))
            if max_messages is not None:
                rows = (
                    await connection.execute(
                        select(s.c.id, s.c.next_seq).where(s.c.message_count > max_messages)
                    )
                ).all()
                for row in rows:
                    keep_from = int(row.next_seq) - max_messages
                    result = await connection.execute(
                        delete(m).where(m.c.session_id == row.id).where(m.c.seq < keep_from)
                    )
                    deleted += result.rowcount or 0
                    count = select(func.count()).select_from(m).where(m.c.session_id == row.id)
                    await connection.execute(
                        update(s)
                        .where(s.c.id == row.id)
                        .values(message_count=count.scalar_subquery())
                    )
        return deleted
