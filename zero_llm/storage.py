"""The runtime's storage: one SQL database, the conversation store and the usage ledger.

In: the settings (``history_url``, the history key, ``usage_flush_interval``) and the sync
bridge whose loop owns the database's connections. Out: the ``HistoryStore``, the
``UsageLedger`` and the ``UsageRecorder`` that writes usage records in batches, all on
one ``Database``. Nothing is opened, or even imported, until first used: building a
runtime does no I/O, a bad key file is reported by the first call that needs it, and the
commands that only read records (``sessions``, ``logs``, ``usage``) open a ``Storage`` without
importing the query path or LangChain.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from zero_llm.database import Database
    from zero_llm.history.store import HistoryStore
    from zero_llm.settings import ZeroLLMSettings
    from zero_llm.sync_bridge import SyncBridge
    from zero_llm.usage.ledger import UsageLedger
    from zero_llm.usage.recorder import UsageRecorder

__all__ = ["Storage"]


class Storage:
    """The database, history, usage ledger and recorder of one runtime (opened on first use)."""

    def __init__(self, settings: ZeroLLMSettings, bridge: SyncBridge | None = None) -> None:
        self.settings = settings
        self.bridge = bridge
        self._database: Database | None = None
        self._history: HistoryStore | None = None
        self._usage: UsageLedger | None = None
        self._recorder: UsageRecorder | None = None

    @property
    def database(self) -> Database:
        """The SQL database of the history and the usage ledger (shared per URL and bridge).

        Without a bridge, the database's default (the process's sync bridge) owns it.
        """
        if self._database is None:
            from zero_llm.database import Database

            self._database = Database.for_url(
                self.settings.history_database_url, bridge=self.bridge
            )
        return self._database

    @property
    def history(self) -> HistoryStore:
        """The conversation store (SQLite under ``home`` unless ``history_url`` says else)."""
        if self._history is None:
            from zero_llm.history.store import HistoryStore

            key = self.settings.history_encryption_key()
            self._history = HistoryStore(self.database, key=key)
        return self._history

    @property
    def usage(self) -> UsageLedger:
        """The usage ledger: one record per model call, read back and summarized."""
        if self._usage is None:
            from zero_llm.usage.ledger import UsageLedger

            self._usage = UsageLedger(self.database, key=self.settings.history_encryption_key())
        return self._usage

    @property
    def recorder(self) -> UsageRecorder:
        """The callback handler that writes usage records to the ledger, in batches."""
        if self._recorder is None:
            from zero_llm.usage.recorder import UsageRecorder

            self._recorder = UsageRecorder(
                self.usage, self.bridge, flush_interval=self.settings.usage_flush_interval
            )
        return self._recorder

    async def flush(self) -> None:
        """Wait until every usage record submitted so far is written."""
        if self._recorder is not None:
            await self._recorder.flush()

    async def aclose(self) -> None:
        """Write pending usage records, then close the database's connections."""
        await self.flush()
        if self._database is not None:
            await self._database.close()
