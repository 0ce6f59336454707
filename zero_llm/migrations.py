"""The self-applying, named schema migrations, each with its schema frozen inside it.

In: a SQLAlchemy connection (SQLite or PostgreSQL) inside the migrating transaction. Out:
the tables as of that migration. A migration never reads the live definitions of
``zero_llm.schema``: those change as columns are added, and a migration that built them
would give a fresh database the new columns early, so that a later ``ALTER`` fails. Each
migration therefore declares the tables exactly as they were when it was written, on a
``MetaData`` of its own, and a later change is a new migration (``ALTER TABLE``).
``Database`` applies the pending ones in order, once, and records them in ``zl_migrations``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.schema import CreateColumn

__all__ = ["MIGRATIONS", "Migration", "migrations"]

_ID = BigInteger().with_variant(Integer, "sqlite")
_SESSION_ID = 255  # frozen: the session id length when 0001 was written


@dataclass(frozen=True)
class Migration:
    """One named schema change."""

    name: str
    apply: Callable[[Connection], None]


def _0001_sessions_and_messages(connection: Connection) -> None:
    """The history tables as first shipped."""
    frozen = MetaData()
    Table(
        "zl_sessions",
        frozen,
        Column("id", String(_SESSION_ID), primary_key=True),
        Column("title", Text, nullable=True),
        Column("metadata", Text, nullable=False, default="{}"),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
        Column("message_count", Integer, nullable=False, default=0),
        Column("next_seq", BigInteger, nullable=False, default=1),
        Column("total_tokens", BigInteger, nullable=False, default=0),
    )
    Table(
        "zl_messages",
        frozen,
        Column("id", _ID, primary_key=True, autoincrement=True),
        Column(
            "session_id",
            String(_SESSION_ID),
            ForeignKey("zl_sessions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        Column("seq", BigInteger, nullable=False),
        Column("role", String(16), nullable=False),
        Column("content", Text, nullable=False),
        Column("reasoning", Text, nullable=True),
        Column("encrypted", Boolean, nullable=False, default=False),
        Column("model", String(200), nullable=True),
        Column("task", String(100), nullable=True),
        Column("token_count", Integer, nullable=False),
        Column("tokens_before", BigInteger, nullable=False),
        Column("complete", Boolean, nullable=False, default=True),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("extra", Text, nullable=False, default="{}"),
        Index("zl_messages_session_seq", "session_id", "seq", unique=True),
        Index("zl_messages_session_tokens_before", "session_id", "tokens_before"),
    )
    frozen.create_all(connection, checkfirst=True)


def _0002_usage_ledger(connection: Connection) -> None:
    """The usage ledger as first shipped."""
    frozen = MetaData()
    Table(
        "zl_usage",
        frozen,
        Column("id", _ID, primary_key=True, autoincrement=True),
        Column("request_id", String(32), nullable=False, unique=True),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("session_id", String(_SESSION_ID), nullable=True),
        Column("task", String(100), nullable=True),
        Column("route_reason", Text, nullable=True),
        Column("requested_model", String(200), nullable=False),
        Column("model", String(200), nullable=True),
        Column("fallbacks", Text, nullable=False, default="[]"),
        Column("num_ctx", Integer, nullable=True),
        Column("attempts", Integer, nullable=False),
        Column("retries", Text, nullable=False, default="[]"),
        Column("error_type", String(100), nullable=True),
        Column("error", Text, nullable=True),
        Column("streamed", Boolean, nullable=False),
        Column("latency_s", Float, nullable=True),
        Column("first_token_s", Float, nullable=True),
        Column("load_duration_s", Float, nullable=True),
        Column("prompt_eval_duration_s", Float, nullable=True),
        Column("eval_duration_s", Float, nullable=True),
        Column("cold_load", Boolean, nullable=True),
        Column("prompt_tokens", Integer, nullable=True),
        Column("prompt_tokens_counted", Integer, nullable=True),
        Column("output_tokens", Integer, nullable=True),
        Column("thinking_tokens", Integer, nullable=True),
        Column("tokens_per_second", Float, nullable=True),
        Column("done_reason", String(50), nullable=True),
        Column("truncation_suspected", Boolean, nullable=False, default=False),
        Column("dropped_messages", Integer, nullable=False, default=0),
        Index("zl_usage_created", "created_at"),
        Index("zl_usage_model_created", "model", "created_at"),
        Index("zl_usage_session", "session_id"),
    )
    frozen.create_all(connection, checkfirst=True)


def _add_columns(connection: Connection, table: str, columns: list[Column[object]]) -> None:
    """``ALTER TABLE ... ADD COLUMN`` each column, as the connection's dialect spells it."""
    for column in columns:
        spelled = CreateColumn(column).compile(dialect=connection.dialect)
        connection.execute(text(f"ALTER TABLE {table} ADD COLUMN {spelled}"))


def _0003_usage_outcome_and_private_sessions(connection: Connection) -> None:
    """Usage: status, host, queue wait, cold-load and fallback notes; sessions: encrypted."""
    _add_columns(
        connection,
        "zl_usage",
        [
            Column("status", String(16), nullable=False, server_default="ok"),
            Column("host", String(300), nullable=True),
            Column("queue_wait_s", Float, nullable=True),
            Column("cold_load_note", Text, nullable=True),
            Column("fallback_note", Text, nullable=True),
        ],
    )
    connection.execute(text("UPDATE zl_usage SET status = 'error' WHERE error_type IS NOT NULL"))
    _add_columns(
        connection,
        "zl_sessions",
        [Column("encrypted", Boolean, nullable=False, server_default=text("false"))],
    )


def _0004_key_check(connection: Connection) -> None:
    """The history key's check value, and the state of a key rotation in progress.

    One row (``name`` 'history') once a key has been used: ``check_value`` is a known text
    sealed with the database's key (NULL while the database is plain), ``rotating_to`` the
    check value of the key a rotation is moving to, and ``progress`` how far it got
    (JSON: the last row id done per table). The rows earlier versions sealed only in part
    (clear ``extra`` fields, clear usage error text) are sealed by ``zero_llm.history.keys``
    the first time a key is used: that needs the key, which a schema migration never has.
    """
    frozen = MetaData()
    Table(
        "zl_keys",
        frozen,
        Column("name", String(50), primary_key=True),
        Column("check_value", Text, nullable=True),
        Column("rotating_to", Text, nullable=True),
        Column("progress", Text, nullable=False, default="{}"),
        Column("updated_at", DateTime(timezone=True), nullable=False),
    )
    frozen.create_all(connection, checkfirst=True)


def _0005_usage_emulated(connection: Connection) -> None:
    """Usage: whether the answer came from an emulator (left out of summaries by default)."""
    _add_columns(
        connection,
        "zl_usage",
        [Column("emulated", Boolean, nullable=False, server_default=text("false"))],
    )


MIGRATIONS: list[Migration] = [
    Migration("0001_sessions_and_messages", _0001_sessions_and_messages),
    Migration("0002_usage_ledger", _0002_usage_ledger),
    Migration("0003_usage_outcome_and_private_sessions", _0003_usage_outcome_and_private_sessions),
    Migration("0004_key_check", _0004_key_check),
    Migration("0005_usage_emulated", _0005_usage_emulated),
]
"""Every migration, in the order it is applied (append only; never edit a shipped one)."""


def migrations() -> list[Migration]:
    """The migrations to apply, in order."""
    return list(MIGRATIONS)
