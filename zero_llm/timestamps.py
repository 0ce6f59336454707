"""Times as zero-llm stores and reads them: timezone-aware UTC, light to import.

In: a datetime from the database (SQLite's are naive, PostgreSQL's aware) or the text a
SQLite file holds for one (``2026-12-05 13:40:15.123456``, SQLAlchemy's storage format).
Out: an aware UTC datetime. Standard library only: the commands that read records without
SQLAlchemy (``zero_llm.sqlite_records``) use it too.
"""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["from_sqlite_text", "now", "utc"]


def utc(value: datetime) -> datetime:
    """A datetime as timezone-aware UTC (SQLite hands back naive ones)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def from_sqlite_text(text: str) -> datetime:
    """A time as a SQLite file stores it (``YYYY-MM-DD HH:MM:SS[.ffffff]``), aware UTC."""
    return utc(datetime.fromisoformat(text))
