"""The record commands' fast read path: the default SQLite history, read with ``sqlite3``.

In: the settings (their history file under ``home`` and the history key). Out: what the
stores' reads return (``HistoryStore.sessions``, ``session``, ``messages`` and
``UsageLedger.records``, ``summary``), made by the same row functions
(``zero_llm.history.rows``, ``zero_llm.usage.sealing``) from the same queries: each SQL
text below is what SQLAlchemy compiles the store's statement to, and a test compiles the
stores' statements and compares them. Importing SQLAlchemy takes about 0.1 s, a third of
a record command's start-up; ``sessions list``, ``sessions show``, ``logs`` and ``usage``
read through this instead (``zero_llm.cli.records.run_reading_records``).

It reads only a file that needs nothing written first: every migration applied and the key
settled (the file's key check value matched by the key, no key on either side, or no key
to read a sealed file, which shows placeholders, as the store does). Anything else (a
pending migration, a key's first use, an unfinished rotation, a wrong key, a ``history_url``
of its own) raises ``NeedsFullStore``, and the command runs on the full stores, which
migrate, seal or raise the error the user should see. A history file that does not exist
holds no records: it is not created. Standard library only (``cryptography`` when a key
is set).
"""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import Coroutine
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from zero_llm.checks import check_session_id
from zero_llm.errors import InvalidRequestError, ZeroLLMError
from zero_llm.history.crypto import TextCipher
from zero_llm.history.rows import SessionInfo, StoredMessage, session_info, stored_message
from zero_llm.timestamps import from_sqlite_text
from zero_llm.usage.record import SummarizesRecords, UsageRecord
from zero_llm.usage.sealing import opened_usage_record

if TYPE_CHECKING:
    from zero_llm.catalog import Catalog
    from zero_llm.settings import ZeroLLMSettings

__all__ = [
    "HistoryReader",
    "NeedsFullStore",
    "SQLiteRecords",
    "UsageReader",
    "messages_sql",
    "run_to_end",
    "sqlite_time",
    "usage_records_sql",
]

T = TypeVar("T")

MIGRATION_NAMES = (
    "0001_sessions_and_messages",
    "0002_usage_ledger",
    "0003_usage_outcome_and_private_sessions",
    "0004_key_check",
    "0005_usage_emulated",
)
"""Every migration's name (``zero_llm.migrations``; a test keeps the two equal)."""
KEY_ROW = "history"
"""The ``zl_keys`` row of the history key (``zero_llm.history.keys.ROW``)."""
DATETIME_COLUMNS = frozenset({"created_at", "updated_at", "applied_at"})
"""The columns, in the tables read here, that SQLite holds as text (``DateTime``)."""
BOOLEAN_COLUMNS = frozenset(
    {"encrypted", "complete", "streamed", "cold_load", "truncation_suspected", "emulated"}
)
"""The columns, in the tables read here, that SQLite holds as 0 or 1 (``Boolean``)."""

_SESSION_SELECT = (
    "SELECT zl_sessions.id, zl_sessions.title, zl_sessions.metadata, zl_sessions.encrypted, "
    "zl_sessions.created_at, zl_sessions.updated_at, zl_sessions.message_count, "
    "zl_sessions.next_seq, zl_sessions.total_tokens \nFROM zl_sessions"
)
SESSIONS_SQL = (
    _SESSION_SELECT + " ORDER BY zl_sessions.updated_at DESC, zl_sessions.id\n LIMIT ? OFFSET ?"
)
"""``HistoryStore.sessions``: a page of sessions, most recently updated first."""
SESSION_SQL = _SESSION_SELECT + " \nWHERE zl_sessions.id = ?"
"""``HistoryStore.session``: one session by id."""
_MESSAGE_SELECT = (
    "SELECT zl_messages.session_id, zl_messages.seq, zl_messages.role, zl_messages.content, "
    "zl_messages.reasoning, zl_messages.encrypted, zl_messages.model, zl_messages.task, "
    "zl_messages.token_count, zl_messages.complete, zl_messages.created_at, "
    "zl_messages.extra \nFROM zl_messages \nWHERE zl_messages.session_id = ?"
)
_USAGE_SELECT = (
    "SELECT zl_usage.id, zl_usage.request_id, zl_usage.created_at, zl_usage.session_id, "
    "zl_usage.task, zl_usage.route_reason, zl_usage.requested_model, zl_usage.model, "
    "zl_usage.fallbacks, zl_usage.num_ctx, zl_usage.attempts, zl_usage.retries, "
    "zl_usage.error_type, zl_usage.error, zl_usage.streamed, zl_usage.latency_s, "
    "zl_usage.first_token_s, zl_usage.load_duration_s, zl_usage.prompt_eval_duration_s, "
    "zl_usage.eval_duration_s, zl_usage.cold_load, zl_usage.prompt_tokens, "
    "zl_usage.prompt_tokens_counted, zl_usage.output_tokens, zl_usage.thinking_tokens, "
    "zl_usage.tokens_per_second, zl_usage.done_reason, zl_usage.truncation_suspected, "
    "zl_usage.dropped_messages, zl_usage.status, zl_usage.host, zl_usage.queue_wait_s, "
    "zl_usage.cold_load_note, zl_usage.fallback_note, zl_usage.emulated \nFROM zl_usage"
)
KEY_SQL = (
    "SELECT zl_keys.name, zl_keys.check_value, zl_keys.rotating_to, zl_keys.progress, "
    "zl_keys.updated_at \nFROM zl_keys \nWHERE zl_keys.name = ?"
)
"""``zero_llm.history.keys``: the history key's row."""
MIGRATIONS_SQL = "SELECT zl_migrations.name \nFROM zl_migrations"
"""``Database``: the names of the migrations applied."""


def messages_sql(*, limited: bool, before_seq: bool) -> str:
    """``HistoryStore.messages``: a session's messages, all in order or the newest N."""
    sql = _MESSAGE_SELECT
    if before_seq:
        sql += " AND zl_messages.seq < ?"
    if limited:
        return sql + " ORDER BY zl_messages.seq DESC\n LIMIT ? OFFSET ?"
    return sql + " ORDER BY zl_messages.seq"


USAGE_FILTERS = (
    ("model", "zl_usage.model = ?"),
    ("task", "zl_usage.task = ?"),
    ("session_id", "zl_usage.session_id = ?"),
    ("since", "zl_usage.created_at >= ?"),
    ("until", "zl_usage.created_at < ?"),
)
"""``UsageLedger.records``' filters, in the order it applies them."""


def usage_records_sql(filters: tuple[str, ...]) -> str:
    """``UsageLedger.records``: the records matching the named filters, oldest first."""
    clauses = [sql for name, sql in USAGE_FILTERS if name in filters]
    where = " \nWHERE " + " AND ".join(clauses) if clauses else ""
    return f"{_USAGE_SELECT}{where} ORDER BY zl_usage.created_at, zl_usage.id\n LIMIT ? OFFSET ?"


def sqlite_time(value: datetime) -> str:
    """A time as SQLAlchemy binds it for SQLite (its fields as given, microseconds kept)."""
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d} "
        f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}.{value.microsecond:06d}"
    )


class NeedsFullStore(ZeroLLMError):
    """The history cannot be read without the full stores (migrations, sealing, errors).

    Caught by the record commands, which then open the full stores; never a user's error.
    """


_row_types: dict[tuple[str, ...], Any] = {}
"""One named-tuple type per column list (a query's rows share it)."""


def _row_factory(cursor: sqlite3.Cursor, values: tuple[Any, ...]) -> Any:
    """A row with attribute access and unpacking, its times and booleans typed as the stores'."""
    names = tuple(column[0] for column in cursor.description)
    row_type: Any = _row_types.get(names)
    if row_type is None:
        row_type = _row_types[names] = namedtuple("Row", names)  # type: ignore[misc]
    typed = [
        _typed(name, value) if value is not None else None
        for name, value in zip(names, values, strict=True)
    ]
    return row_type(*typed)


def _typed(name: str, value: Any) -> Any:
    if name in DATETIME_COLUMNS and isinstance(value, str):
        return from_sqlite_text(value)
    if name in BOOLEAN_COLUMNS:
        return bool(value)
    return value


class SQLiteRecords:
    """The history and the usage ledger of the default SQLite file, read with ``sqlite3``.

    ``open(settings)`` raises ``NeedsFullStore`` when the file needs the full stores.
    """

    def __init__(
        self, settings: ZeroLLMSettings, connection: sqlite3.Connection | None, cipher: TextCipher
    ) -> None:
        self.settings = settings
        self._connection = connection
        self.cipher = cipher
        """The history key's cipher (disabled without a key)."""
        self.history = HistoryReader(self)
        self.usage = UsageReader(self)

    @classmethod
    def open(cls, settings: ZeroLLMSettings) -> SQLiteRecords:
        """The records of ``settings``, ready to read, or ``NeedsFullStore``."""
        if settings.history_url:
            raise NeedsFullStore("a history_url of its own")
        cipher = TextCipher(settings.history_encryption_key())
        path = settings.default_history_file
        if not path.exists():
            return cls(settings, None, cipher)
        try:
            connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True)
        except sqlite3.Error as exc:
            raise NeedsFullStore(str(exc)) from exc
        records = cls(settings, connection, cipher)
        try:
            connection.row_factory = _row_factory
            connection.execute("PRAGMA busy_timeout = 30000")
            records._check_settled()
        except BaseException:
            records.close()
            raise
        return records

    @property
    def catalog(self) -> Catalog:
        """The catalog of the settings (roles and their models)."""
        return self.settings.catalog()

    def _check_settled(self) -> None:
        """Raise ``NeedsFullStore`` unless the file can be read as it is."""
        applied = {row.name for row in self.rows(MIGRATIONS_SQL, ())}
        if not applied.issuperset(MIGRATION_NAMES):
            raise NeedsFullStore("a migration is pending")
        found = self.rows(KEY_SQL, (KEY_ROW,))
        check_value = found[0].check_value if found else None
        rotating_to = found[0].rotating_to if found else None
        cipher = self.cipher
        if rotating_to is not None:
            raise NeedsFullStore("a key rotation is unfinished")
        if check_value is None and cipher.enabled:
            raise NeedsFullStore("the key's first use seals the history")
        if check_value is not None and cipher.enabled and not cipher.matches(check_value):
            raise NeedsFullStore("not the history's key")

    def rows(self, sql: str, parameters: tuple[Any, ...]) -> list[Any]:
        """The rows of one query (none from a file that does not exist)."""
        if self._connection is None:
            return []
        try:
            return self._connection.execute(sql, parameters).fetchall()
        except sqlite3.Error as exc:
            raise NeedsFullStore(str(exc)) from exc

    def close(self) -> None:
        """Close the file."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class HistoryReader:
    """``HistoryStore``'s reads over a ``SQLiteRecords`` file."""

    def __init__(self, records: SQLiteRecords) -> None:
        self._records = records

    async def sessions(self, *, limit: int = 100, offset: int = 0) -> list[SessionInfo]:
        """Sessions, most recently updated first."""
        rows = self._records.rows(SESSIONS_SQL, (limit, offset))
        return [session_info(row, self._records.cipher) for row in rows]

    async def session(self, session_id: str) -> SessionInfo | None:
        """One session's info, or None if there is no such session."""
        rows = self._records.rows(SESSION_SQL, (check_session_id(session_id),))
        return session_info(rows[0], self._records.cipher) if rows else None

    async def messages(
        self, session_id: str, *, limit: int | None = None, before_seq: int | None = None
    ) -> list[StoredMessage]:
        """Messages of a session in order: all, or the ``limit`` newest before ``before_seq``."""
        parameters: list[Any] = [check_session_id(session_id)]
        if before_seq is not None:
            parameters.append(before_seq)
        if limit is not None:
            parameters += [limit, 0]
        sql = messages_sql(limited=limit is not None, before_seq=before_seq is not None)
        rows = self._records.rows(sql, tuple(parameters))
        stored = [stored_message(row, self._records.cipher) for row in rows]
        return sorted(stored, key=lambda s: s.seq) if limit is not None else stored


class UsageReader(SummarizesRecords):
    """``UsageLedger``'s reads over a ``SQLiteRecords`` file."""

    def __init__(self, records: SQLiteRecords) -> None:
        self._records = records

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
        given: dict[str, Any] = {"model": model, "task": task, "session_id": session_id}
        given |= {"since": since, "until": until}
        names = tuple(name for name, _ in USAGE_FILTERS if given[name] is not None)
        values = [
            sqlite_time(value) if isinstance(value, datetime) else value
            for value in (given[name] for name in names)
        ]
        rows = self._records.rows(usage_records_sql(names), (*values, limit, 0))
        return [opened_usage_record(row._asdict(), self._records.cipher) for row in rows]


def run_to_end(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never waits (the reader's) to its end, with no event loop."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    coro.close()
    raise RuntimeError("a read of the SQLite history waited on something: it never should")
