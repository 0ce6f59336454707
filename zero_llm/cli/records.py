"""The records alone: the history and the usage ledger, opened without a ``ModelManager``.

In: the settings (from the usual sources). Out: the conversation store and the usage
ledger over one database (the database's own default bridge, as for a store used alone),
closed at the end of the command. The commands that only read or edit records
(``sessions``, ``logs``, ``usage``, ``history rotate-key``) run on this, so they never
import the query core, the Ollama client or LangChain: they start in a fraction of the
time a manager takes. It is the runtime's ``Storage`` without the usage recorder (a
LangChain callback handler, which these commands never need).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from zero_llm.cli.common import fail, fail_error

if TYPE_CHECKING:
    from zero_llm.catalog import Catalog
    from zero_llm.database import Database
    from zero_llm.history.store import HistoryStore
    from zero_llm.settings import ZeroLLMSettings
    from zero_llm.usage.ledger import UsageLedger

__all__ = ["Records", "run_with_records"]

T = TypeVar("T")


class Records:
    """The history and the usage ledger of ``settings``, opened on first use."""

    def __init__(self, settings: ZeroLLMSettings) -> None:
        self.settings = settings
        self._database: Database | None = None
        self._history: HistoryStore | None = None
        self._usage: UsageLedger | None = None

    @property
    def catalog(self) -> Catalog:
        """The catalog of the settings (roles and their models)."""
        return self.settings.catalog()

    @property
    def database(self) -> Database:
        """The SQL database of the history and the usage ledger."""
        if self._database is None:
            from zero_llm.database import Database

            self._database = Database.for_url(self.settings.history_database_url)
        return self._database

    @property
    def history(self) -> HistoryStore:
        """The conversation store, with the settings' key."""
        if self._history is None:
            from zero_llm.history.store import HistoryStore

            key = self.settings.history_encryption_key()
            self._history = HistoryStore(self.database, key=key)
        return self._history

    @property
    def usage(self) -> UsageLedger:
        """The usage ledger, with the settings' key."""
        if self._usage is None:
            from zero_llm.usage.ledger import UsageLedger

            key = self.settings.history_encryption_key()
            self._usage = UsageLedger(self.database, key=key)
        return self._usage

    async def aclose(self) -> None:
        """Close this loop's database connections."""
        if self._database is not None:
            await self._database.close()


def run_with_records(body: Callable[[Records], Awaitable[T]]) -> T:
    """Run ``body`` over the records in one event loop; close them at its end."""
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
