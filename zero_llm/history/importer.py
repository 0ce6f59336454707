"""Import conversations from LangChain community's ``SQLChatMessageHistory`` table.

That class stores one row per message in ``message_store`` (``id``, ``session_id``,
``message`` as ``message_to_dict`` JSON). The importer reads it in id order, one session
at a time, and appends each session's messages to a ``HistoryStore`` with token counts,
so users who migrate lose nothing. The source is only read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from langchain_core.messages import messages_from_dict
from sqlalchemy import MetaData, Table, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine

from zero_llm.errors import StorageError
from zero_llm.history.store import HistoryStore, NewMessage
from zero_llm.tokens import EstimatingCounter, TokenCounter, overhead_for_template

__all__ = ["ImportReport", "import_sql_chat_history"]


@dataclass(frozen=True)
class ImportReport:
    """What an import did."""

    sessions: int
    messages: int
    skipped_sessions: list[str]


async def import_sql_chat_history(
    source_url: str,
    store: HistoryStore,
    *,
    table_name: str = "message_store",
    counter: TokenCounter | None = None,
    skip_existing: bool = True,
) -> ImportReport:
    """Copy every session of a ``SQLChatMessageHistory`` table into ``store``."""
    counter = counter or EstimatingCounter(overhead_for_template(None))
    engine = create_async_engine(source_url)
    try:
        async with engine.connect() as connection:
            table = await connection.run_sync(
                lambda sync: Table(table_name, MetaData(), autoload_with=sync)
            )
            ids = (await connection.execute(select(table.c.session_id).distinct())).scalars().all()
            imported = messages_total = 0
            skipped: list[str] = []
            for session_id in sorted(ids):
                if skip_existing and await store.session(session_id) is not None:
                    skipped.append(session_id)
                    continue
                rows = (
                    (
                        await connection.execute(
                            select(table.c.message)
                            .where(table.c.session_id == session_id)
                            .order_by(table.c.id)
                        )
                    )
                    .scalars()
                    .all()
                )
                messages = messages_from_dict([json.loads(row) for row in rows])
                counts = counter.count_messages(messages)
                await store.append(
                    session_id,
                    [NewMessage(m, c) for m, c in zip(messages, counts, strict=True)],
                )
                imported += 1
                messages_total += len(messages)
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot read {table_name!r} at {source_url}: {exc}") from exc
    finally:
        await engine.dispose()
    return ImportReport(imported, messages_total, skipped)
