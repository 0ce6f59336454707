"""The records alone: the history and the usage ledger, opened without a ``ModelManager``.

In: the settings (from the usual sources). Out: the conversation store and the usage
ledger over one database (the database's own default bridge, as for a store used alone),
closed at the end of the command. The commands that only read or edit records
(``sessions``, ``logs``, ``usage``, ``history rotate-key``) run on this, so they never
import the query core, the Ollama client or LangChain: they start in a fraction of the
time a manager takes. It is the runtime's ``Storage`` (whose usage recorder, a LangChain
callback handler, these commands never ask for). A SQLite database is opened ``blocking``
(the same stores, tables and queries on the standard ``sqlite3`` driver, run in the
command's own loop: no asyncio driver, no bridge thread); PostgreSQL is opened as the
runtime opens it, on the database's default bridge.

The commands that only read (``sessions list``, ``sessions show``, ``logs``, ``usage``) go
through ``run_reading_records``: on the default SQLite file they read it with the standard
library's ``sqlite3`` (``zero_llm.sqlite_records``: the stores' own queries and row
functions, without importing SQLAlchemy), and fall back to the full stores when the file
needs them (a pending migration, a key's first use or a wrong key, a ``history_url``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from zero_llm.cli.common import fail, fail_error
from zero_llm.storage import Storage

if TYPE_CHECKING:
    from zero_llm.catalog import Catalog
    from zero_llm.database import Database
    from zero_llm.history.store import HistoryStore
    from zero_llm.settings import ZeroLLMSettings
    from zero_llm.sqlite_records import HistoryReader, UsageReader
    from zero_llm.usage.ledger import UsageLedger

__all__ = ["RecordReads", "Records", "run_reading_records", "run_with_records"]

T = TypeVar("T")


class RecordReads(Protocol):
    """What a reading command gets: the settings, the catalog, the history and usage reads."""

    @property
    def settings(self) -> ZeroLLMSettings:
        """The settings the records were opened with."""

    @property
    def catalog(self) -> Catalog:
        """The catalog of the settings."""

    @property
    def history(self) -> HistoryStore | HistoryReader:
        """The history: the store, or its reads on the SQLite file."""

    @property
    def usage(self) -> UsageLedger | UsageReader:
        """The usage ledger: the ledger, or its reads on the SQLite file."""


class Records(Storage):
    """The history and the usage ledger of ``settings``, opened on first use (no recorder)."""

    @property
    def database(self) -> Database:
        """The database of the records: a SQLite file ``blocking``, PostgreSQL as usual."""
        if self._database is None:
            from zero_llm.database import Database

            self._database = Database(self.settings.history_database_url, blocking=True)
        return self._database

    @property
    def catalog(self) -> Catalog:
        """The catalog of the settings (roles and their models)."""
        return self.settings.catalog()


def _settings() -> ZeroLLMSettings:
    from zero_llm.errors import ZeroLLMError
    from zero_llm.settings import load_settings

    try:
        return load_settings()
    except ZeroLLMError as exc:
        raise fail(str(exc)) from None


def run_reading_records(body: Callable[[RecordReads], Coroutine[Any, Any, T]]) -> T:
    """Run a ``body`` that only reads: on the SQLite file directly, else on the full stores."""
    from zero_llm.errors import ZeroLLMError
    from zero_llm.sqlite_records import NeedsFullStore, SQLiteRecords, run_to_end

    settings = _settings()
    try:
        reader = SQLiteRecords.open(settings)
    except NeedsFullStore:
        return run_with_records(body, settings)
    except ZeroLLMError as exc:
        raise fail_error(exc) from None
    try:
        return run_to_end(body(reader))
    except NeedsFullStore:  # the file changed under the reader: the full stores decide
        return run_with_records(body, settings)
    except ZeroLLMError as exc:
        raise fail_error(exc) from None
    finally:
        reader.close()


def run_with_records(
    body: Callable[[Records], Awaitable[T]], settings: ZeroLLMSettings | None = None
) -> T:
    """Run ``body`` over the records in one event loop; close them at its end."""
    import asyncio

    from zero_llm.errors import ZeroLLMError

    records = Records(settings or _settings())

    async def main() -> T:
        try:
            return await body(records)
        finally:
            await records.aclose()

    try:
        return asyncio.run(main())
    except ZeroLLMError as exc:
        raise fail_error(exc) from None
