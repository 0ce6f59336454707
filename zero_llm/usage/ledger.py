"""``UsageLedger``: the ``zl_usage`` table, written and read back.

In: ``UsageRecord``s, written in one transaction (by the recorder, or inside the history's
own transaction with ``insert_usage`` so a turn and its record are stored together).
Out: records filtered by model, task, session and time range, and their summaries.
Writing is idempotent per ``request_id``: a record stored twice is stored once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from zero_llm.database import Database, on_database_loop
from zero_llm.errors import InvalidRequestError
from zero_llm.schema import zl_usage
from zero_llm.usage.record import GroupBy, UsageRecord, UsageSummary, summarize

__all__ = ["UsageLedger", "insert_usage"]


async def insert_usage(connection: AsyncConnection, records: Sequence[UsageRecord]) -> None:
    """Insert usage rows on an open transaction, skipping request ids already stored."""
    if not records:
        return
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert  # type: ignore[assignment]
    statement = upsert(zl_usage).on_conflict_do_nothing(index_elements=[zl_usage.c.request_id])
    await connection.execute(statement, [r.to_row() for r in records])


class UsageLedger:
    """The ``zl_usage`` table: write records, read them back, summarize them."""

    def __init__(self, database: Database | str) -> None:
        self.database = database if isinstance(database, Database) else Database.for_url(database)

    @on_database_loop
    async def write(self, records: Sequence[UsageRecord]) -> None:
        """Insert records in one transaction (a record already stored is left as it is)."""
        if records:
            async with self.database.transaction() as connection:
                await insert_usage(connection, records)

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
        query = query.order_by(u.c.created_at, u.c.id).limit(limit)
        async with self.database.transaction(read_only=True) as connection:
            rows = (await connection.execute(query)).all()
        return [UsageRecord.from_row(row) for row in rows]

    async def summary(
        self,
        by: GroupBy | None = None,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        model: str | None = None,
        task: str | None = None,
        session_id: str | None = None,
        include_emulated: bool = False,
    ) -> list[UsageSummary]:
        """Summaries of the matching records, grouped by model, task or session.

        Emulated answers are left out unless ``include_emulated``.
        """
        records = await self.records(
            model=model, task=task, session_id=session_id, since=since, until=until
        )
        if not include_emulated:
            records = [r for r in records if not r.emulated]
        return summarize(records, by)
