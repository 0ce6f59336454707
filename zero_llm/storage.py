"""The runtime's storage: one SQL database, the conversation store and the usage ledger.

In: the settings (``history_url``, the history key, ``usage_flush_interval``), the sync
bridge and the runtime's home. Out: the ``HistoryStore``, the ``UsageLedger`` and the
``UsageRecorder`` that writes usage records in batches. Outside ``async with`` the history
and the ledger use the process's one ``Database`` per URL, on the bridge's loop; inside a
block (the home ``entered``), a ``Database`` of the runtime's own on the block's loop, so their
transactions run in place, closed at the block's end (``changed_home``). The recorder
writes in the background on the bridge's loop either way. Nothing is opened, or even
imported, until first used: building a runtime does no I/O, a bad key file is reported by
the first call that needs it, and the record commands open a ``Storage`` without importing
the query path or LangChain.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from zero_llm.database import Database
    from zero_llm.history.store import HistoryStore
    from zero_llm.home_loop import RuntimeHome
    from zero_llm.settings import ZeroLLMSettings
    from zero_llm.sync_bridge import SyncBridge
    from zero_llm.usage.ledger import UsageLedger
    from zero_llm.usage.recorder import UsageRecorder

__all__ = ["Storage"]


class Storage:
    """The database, history, usage ledger and recorder of one runtime (opened on first use)."""

    def __init__(
        self,
        settings: ZeroLLMSettings,
        bridge: SyncBridge | None = None,
        home: RuntimeHome | None = None,
    ) -> None:
        self.settings = settings
        self.bridge = bridge
        self.home = home
        self._database: Database | None = None
        self._shared: Database | None = None
        self._history: HistoryStore | None = None
        self._usage: UsageLedger | None = None
        self._shared_usage: UsageLedger | None = None
        self._recorder: UsageRecorder | None = None

    @property
    def database(self) -> Database:
        """The SQL database of the history and the usage ledger now (see the module doc)."""
        if self._database is None:
            from zero_llm.database import Database

            url = self.settings.history_database_url
            if self.home is not None and self.home.entered:
                self._database = Database(url, bridge=self.bridge, home=self.home)
            else:
                self._database = self._shared_database()
        return self._database

    def _shared_database(self) -> Database:
        """The process's database of the URL on the bridge (the recorder's always)."""
        if self._shared is None:
            from zero_llm.database import Database

            url = self.settings.history_database_url
            self._shared = Database.for_url(url, bridge=self.bridge)
        return self._shared

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
            database = self.database
            if database is self._shared:
                self._usage = self._shared_ledger()
            else:
                self._usage = self._ledger_on(database)
        return self._usage

    def _shared_ledger(self) -> UsageLedger:
        """The ledger on the shared database: ``usage`` outside a block, the recorder's always.

        One ledger, so the key is checked against that database once.
        """
        if self._shared_usage is None:
            self._shared_usage = self._ledger_on(self._shared_database())
        return self._shared_usage

    def _ledger_on(self, database: Database) -> UsageLedger:
        from zero_llm.usage.ledger import UsageLedger

        return UsageLedger(database, key=self.settings.history_encryption_key())

    @property
    def recorder(self) -> UsageRecorder:
        """The callback handler that writes usage records to the ledger, in batches."""
        if self._recorder is None:
            from zero_llm.usage.recorder import UsageRecorder

            self._recorder = UsageRecorder(
                self._shared_ledger(),
                self.bridge,
                flush_interval=self.settings.usage_flush_interval,
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
        if self._shared is not None and self._shared is not self._database:
            await self._shared.close()

    def changed_home(self) -> None:
        """The runtime was entered or left: the next use opens the database of the new home.

        The history and the ledger are built again on it; the one being left was closed
        (a block's own) or stays open for the process's other runtimes (the shared one).
        """
        self._database = self._history = self._usage = None
