"""``UsageLedger``: the ``zl_usage`` table, written and read back.

In: ``UsageRecord``s, written in one transaction (by the recorder, or inside the history's
own transaction with ``insert_usage`` so a turn and its record are stored together).
Out: records filtered by model, task, session and time range, and their summaries.
Writing is idempotent per ``request_id``: a record stored twice is stored once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, select

from zero_llm.database import Database, on_database_loop
from zero_llm.errors import InvalidRequestError
from zero_llm.schema import zl_usage
from zero_llm.usage.record import SummarizesRecords, UsageRecord
from zero_llm.usage.sealing import opened_usage_record, seal_usage_row

if TYPE_CHECKING:
    from zero_llm.database import Connection
    from zero_llm.history.crypto import TextCipher

__all__ = ["UsageLedger", "insert_usage", "seal_usage_row", "usage_records_query"]

async def insert_usage(
    connection: Connection,
    records: Sequence[UsageRecord],
    cipher: TextCipher | None = None,
) -> None:
    """Insert usage rows on an open transaction, skipping request ids already stored.

    With a ``cipher`` holding a key, the rows' free text is sealed (``seal_usage_row``).
    """
    if not records:
        return
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert  # type: ignore[assignment]
    statement = upsert(zl_usage).on_conflict_do_nothing(index_elements=[zl_usage.c.request_id])
    rows = [
        {k: v.replace("\x00", "\ufffd") if isinstance(v, str) else v for k, v in r.to_row().items()}
        for r in records
    ]  # PostgreSQL's text cannot hold NUL (an error may echo a prompt that had one)
    if cipher is not None and cipher.enabled:
        rows = [seal_usage_row(row, cipher.seal) for row in rows]
    await connection.execute(statement, rows)


def usage_records_query(
    *,
    model: str | None = None,
    task: str | None = None,
    session_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100_000,
) -> Select[Any]:
    """The records matching every filter given, oldest first (``UsageLedger.records``)."""
    u = zl_usage
    query = select(u)
    if model is not None:
        query = query.where(u.c.model == model)
    if task is not None:
        query = query.where(u.c.task == task)
    if session_id is not None:
        query = query.where(u.c.session_id == session_id)
    if since is not None:
        query = query.where(u.c.created_at >= since)
    if until is not None:
        query = query.where(u.c.created_at < until)
    return query.order_by(u.c.created_at, u.c.id).limit(limit)


class UsageLedger(SummarizesRecords):
    """The ``zl_usage`` table: write records, read them back, summarize them."""

    def __init__(self, database: Database | str, *, key: str | None = None) -> None:
        from zero_llm.history.crypto import TextCipher
        from zero_llm.history.keys import KeyGuard

        self.database = database if isinstance(database, Database) else Database.for_url(database)
        self._cipher = TextCipher(key)
        self._guard = KeyGuard(self.database, self._cipher)

    @asynccontextmanager
    async def _transaction(self, *, read_only: bool = False) -> AsyncIterator[Connection]:
        await self._guard.ensure(writing=not read_only)
        async with self.database.transaction(read_only=read_only) as connection:
            if not read_only:  # and the database is still as that check found it
                await self._guard.check_write(connection)
            yield connection

    @on_database_loop
    async def write(self, records: Sequence[UsageRecord]) -> None:
        """Insert records in one transaction (a record already stored is left as it is)."""
        if records:
            async with self._transaction() as connection:
                await insert_usage(connection, records, self._cipher)

    @on_database_loop
    async def records(
        self,
        *,
        model: str | None = None,
        task: str | None = None,
        session_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100_000,
    ) -> list[UsageRecord]:
        """Records matching every filter given, oldest first."""
        if limit < 1:
            raise InvalidRequestError("limit must be at least 1")
        query = usage_records_query(
            model=model, task=task, session_id=session_id, since=since, until=until, limit=limit
        )
        async with self._transaction(read_only=True) as connection:
            rows = (await connection.execute(query)).all()
        return [opened_usage_record(dict(row._mapping), self._cipher) for row in rows]
