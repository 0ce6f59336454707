"""The database schema of zero_llm and its self-applying, named migrations.

History tables: ``zl_sessions`` (one row per conversation, with its running counters) and
``zl_messages`` (one row per message: order, role, content, the reasoning kept apart,
model, task, token count and ``tokens_before``, the running sum of the session's token
counts before it). A message and all after it fit a budget B exactly when
``tokens_before >= total - B``: one index range scan, never reading the whole session.
The usage ledger: ``zl_usage``, one row per model call. These are the LIVE definitions the
code reads and writes; the migrations that build them (``zero_llm.migrations``) carry their
own frozen copies, so adding a column here never changes what an old migration creates.
"""

from __future__ import annotations

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
)

from zero_llm.checks import SESSION_ID_LENGTH

__all__ = ["metadata", "zl_keys", "zl_messages", "zl_migrations", "zl_sessions", "zl_usage"]

metadata = MetaData()


zl_migrations = Table(
    "zl_migrations",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)

zl_sessions = Table(
    "zl_sessions",
    metadata,
    Column("id", String(SESSION_ID_LENGTH), primary_key=True),
    Column("title", Text, nullable=True),
    Column("metadata", Text, nullable=False, default="{}"),
    Column("encrypted", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("message_count", Integer, nullable=False, default=0),
    Column("next_seq", BigInteger, nullable=False, default=1),
    Column("total_tokens", BigInteger, nullable=False, default=0),
)

zl_messages = Table(
    "zl_messages",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column(
        "session_id",
        String(SESSION_ID_LENGTH),
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


zl_usage = Table(
    "zl_usage",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("request_id", String(32), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("session_id", String(SESSION_ID_LENGTH), nullable=True),
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
    Column("status", String(16), nullable=False, default="ok"),
    Column("host", String(300), nullable=True),
    Column("queue_wait_s", Float, nullable=True),
    Column("cold_load_note", Text, nullable=True),
    Column("fallback_note", Text, nullable=True),
    Column("emulated", Boolean, nullable=False, default=False),
    Index("zl_usage_created", "created_at"),
    Index("zl_usage_model_created", "model", "created_at"),
    Index("zl_usage_session", "session_id"),
)


zl_keys = Table(
    "zl_keys",
    metadata,
    Column("name", String(50), primary_key=True),
    Column("check_value", Text, nullable=True),
    Column("rotating_to", Text, nullable=True),
    Column("progress", Text, nullable=False, default="{}"),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
"""The history key's check value and the state of a rotation (see ``zero_llm.history.keys``)."""
