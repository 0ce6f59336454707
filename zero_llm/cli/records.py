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
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from zero_llm.cli.common import fail, fail_error
from zero_llm.storage import Storage

if TYPE_CHECKING:
    from zero_llm.catalog import Catalog
    from zero_llm.database import Database

__all__ = ["Records", "run_with_records"]

T = TypeVar("T")


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


def run_with_records(body: Callable[[Records], Awaitable[T]]) -> T:
    """Run ``body`` over the records in one event loop; close them at its end."""
    import asyncio

    from zero_llm.errors import ZeroLLMError
    from zero_llm.settings import load_settings

    try:
        records = Records(load_settings())
    except ZeroLLMError as exc:
        raise fail(str(exc)) from None

    async def main() -> T:
        try:
            return await body(records)
        finally:
            await records.aclose()

    try:
        return asyncio.run(main())
    except ZeroLLMError as exc:
        raise fail_error(exc) from None
