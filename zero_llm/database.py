"""One SQL database shared by the conversation store and the usage ledger.

In: an async SQLAlchemy URL. Out: transactions on one pooled ``AsyncEngine`` that lives on
one loop, its home (an asyncio pool cannot cross loops: store methods hop there with
``on_database_loop``): the shared sync loop, where one ``Database`` per URL serves every
runtime of the process, or, for a runtime entered with ``async with``, that block's loop,
with a ``Database`` of its own closed at the block's end. The schema is migrated first,
once. SQLite files are created owner-only, run in WAL mode, and serialize writers with
``BEGIN IMMEDIATE`` (so two processes can share one file); PostgreSQL migrations hold an
advisory lock.
SQLAlchemy errors leave as ``StorageError``.

A short-lived process that does one thing at a time (the record commands) may open a
SQLite file ``blocking``: the same transactions, migrations, tables and queries, on a
sync engine over the standard ``sqlite3`` driver, run in place on whatever loop awaits
them (``BlockingEngine``), so neither SQLAlchemy's asyncio extension (and the ORM it
imports), aiosqlite nor the sync bridge's thread is ever loaded.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, Protocol, TypeAlias, TypeVar

from sqlalchemy import Select, create_engine, event, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from zero_llm.errors import ConfigurationError, StorageError
from zero_llm.home_loop import Home, forget_in_forked_child, on_home_loop
from zero_llm.migrations import Migration, migrations
from zero_llm.schema import zl_migrations
from zero_llm.timestamps import now

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection as SyncConnection
    from sqlalchemy.engine import Dialect, Engine
    from sqlalchemy.ext.asyncio import AsyncEngine

    from zero_llm.sync_bridge import SyncBridge

__all__ = [
    "BlockingConnection",
    "BlockingEngine",
    "Connection",
    "Database",
    "on_database_loop",
]

T = TypeVar("T")
P = ParamSpec("P")


on_database_loop = on_home_loop(lambda store: store.database)
"""Make a store method run where its database's I/O runs (the store has a ``database``):
on its bridge's loop, or in place for a ``blocking`` database (``Database.call``)."""


def _is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL; None for another database, memory or a ``file:`` URI."""
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database:
        return None
    if database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).expanduser()


def _prepare_sqlite_file(url: str) -> None:
    """Create the database file owner-only (0600) in an owner-only folder before use."""
    path = sqlite_file(url)
    if path is None:
        return
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


def _enable_wal(cursor: Any, timeout: float) -> None:
    """Switch the file to WAL, waiting out another process's write lock.

    SQLite answers "database is locked" at once to this pragma while another connection
    writes (its busy timeout does not apply), so two processes opening a fresh file would
    fail at random: retry with a short backoff until ``timeout``.
    """
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except Exception as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(delay)  # once per process and file, only while another one writes
            delay = min(delay * 2, 0.1)


def applied_migrations_query() -> Select[Any]:
    """The names of the migrations applied to a database."""
    return select(zl_migrations.c.name)


class BlockingConnection:
    """A sync connection with the face of an ``AsyncConnection`` that the stores use.

    ``execute`` and ``run_sync`` run at once, in place: the caller's loop waits for them.
    """

    def __init__(self, connection: SyncConnection) -> None:
        self.sync_connection = connection
        self.dialect = connection.dialect

    async def execute(self, statement: Any, parameters: Any = None) -> Any:
        """Execute ``statement`` (with ``parameters``, one dict or a list of them)."""
        return self.sync_connection.execute(statement, parameters)

    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        """Call ``fn`` with the sync connection (as ``AsyncConnection.run_sync`` does)."""
        return fn(self.sync_connection, *args)

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[None]:
        """A transaction, committed at the end of the block (rolled back on an error)."""
        with self.sync_connection.begin():
            yield


class BlockingEngine:
    """A sync engine with the face of an ``AsyncEngine`` that ``Database`` uses."""

    def __init__(self, engine: Engine) -> None:
        self.sync_engine = engine

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[BlockingConnection]:
        """A connection from the pool, given back at the end of the block."""
        with self.sync_engine.connect() as connection:
            yield BlockingConnection(connection)

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[BlockingConnection]:
        """A connection in a transaction, committed at the end of the block."""
        with self.sync_engine.begin() as connection:
            yield BlockingConnection(connection)

    async def dispose(self) -> None:
        """Close the pool's connections."""
        self.sync_engine.dispose()


class Connection(Protocol):
    """A connection of a ``Database`` transaction, as the stores use it (async or blocking)."""

    @property
    def dialect(self) -> Dialect:
        """The database's SQLAlchemy dialect."""

    async def execute(self, statement: Any, parameters: Any = None) -> Any:
        """Execute ``statement`` (with ``parameters``, one dict or a list of them)."""

    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        """Call ``fn`` with the sync connection."""


if TYPE_CHECKING:
    _Engine: TypeAlias = AsyncEngine | BlockingEngine


class Database:
    """The engine(s), migrations and transactions of one database.

    Args:
        url: ``sqlite+aiosqlite:///path.sqlite3`` or ``postgresql+asyncpg://user@host/db``.
        busy_timeout: seconds a SQLite writer waits for another to finish.
        upgrades: the migrations to bring the database to (default: all of them; a prefix
            builds an older schema, for upgrade tests and tools).
        blocking: SQLite only (PostgreSQL ignores it): a sync engine over ``sqlite3`` whose
            I/O runs in place on the awaiting loop, for a process that does one thing at a
            time; it needs no sync bridge and imports no asyncio driver.
    """

    def __init__(
        self,
        url: str,
        busy_timeout: float = 30.0,
        *,
        upgrades: Sequence[Migration] | None = None,
        bridge: SyncBridge | None = None,
        home: Home | None = None,
        blocking: bool = False,
    ) -> None:
        try:
            backend = make_url(url).get_backend_name()
        except Exception as exc:
            raise ConfigurationError(f"invalid history URL {url!r}: {exc}") from exc
        if backend not in ("sqlite", "postgresql"):
            raise ConfigurationError(
                f"history URL {url!r}: only SQLite and PostgreSQL are supported"
            )
        self.url = url
        self._busy_timeout = busy_timeout
        self._bridge = bridge
        self._home = home
        self.blocking = blocking and backend == "sqlite"
        """SQLite on a sync engine, its I/O in place on the awaiting loop (no bridge)."""
        self._engine_instance: _Engine | None = None
        self._migrated = False
        self._wal = False
        self._lock = threading.Lock()
        self._migration_lock: asyncio.Lock | None = None
        self._upgrades = list(upgrades) if upgrades is not None else migrations()
        forget_in_forked_child(self)

    @classmethod
    def for_url(
        cls, url: str, busy_timeout: float = 30.0, bridge: SyncBridge | None = None
    ) -> Database:
        """The ``Database`` of a URL on a bridge (one pool per database, kept by the bridge).

        Sharing matters beyond saving connections: a pooled asyncio connection that is
        garbage-collected on another thread cannot close cleanly, so pools are not left
        to the garbage collector.
        """
        from zero_llm.sync_bridge import shared_bridge

        owner = bridge or shared_bridge()
        return owner.keep(("database", url), lambda: cls(url, busy_timeout, bridge=owner))

    @property
    def bridge(self) -> SyncBridge:
        """The sync bridge that sync callers of this database's stores block on."""
        if self._bridge is None:
            from zero_llm.sync_bridge import shared_bridge

            self._bridge = shared_bridge()
        return self._bridge

    @property
    def home(self) -> Home:
        """Where this database's connections live: its runtime's home, else the bridge."""
        return self._home or self.bridge

    @property
    def connected(self) -> bool:
        """Whether this database has an open pool (built by a transaction, not yet closed)."""
        return self._engine_instance is not None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The one event loop all of this database's I/O runs on (the home's)."""
        return self.home.loop

    def _engine(self) -> _Engine:
        if not self.blocking and asyncio.get_running_loop() is not self.loop:
            raise RuntimeError("database I/O must run on the database loop (on_database_loop)")
        if self._engine_instance is None:
            self._engine_instance = self._build_engine()
        return self._engine_instance

    def _build_engine(self) -> _Engine:
        if not _is_sqlite(self.url):
            from sqlalchemy.ext.asyncio import create_async_engine

            return create_async_engine(self.url, pool_pre_ping=True)
        _prepare_sqlite_file(self.url)
        engine: _Engine
        if self.blocking:
            url = make_url(self.url).set(drivername="sqlite")  # the standard sqlite3 driver
            engine = BlockingEngine(
                create_engine(url, connect_args={"timeout": self._busy_timeout})
            )
        else:
            from sqlalchemy.ext.asyncio import create_async_engine

            engine = create_async_engine(self.url, connect_args={"timeout": self._busy_timeout})
        busy_ms = int(self._busy_timeout * 1000)

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we say BEGIN ourselves, below
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if not self._wal:  # WAL mode is a property of the file: set it once
                _enable_wal(cursor, self._busy_timeout)
                self._wal = True
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(connection: Any) -> None:
            # Writers take the write lock up front (no deadlocked upgrades between
            # processes); readers take none and read their snapshot beside the writer.
            read_only = connection.info.get("read_only", False)
            connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine

    @asynccontextmanager
    async def transaction(self, *, read_only: bool = False) -> AsyncIterator[Connection]:
        """One transaction on the running loop's engine (migrating first, once)."""
        try:
            engine = self._engine()
            if not self._migrated:
                await self._migrate(engine)
            async with engine.connect() as connection:
                connection.sync_connection.info["read_only"] = read_only  # type: ignore[union-attr]
                async with connection.begin():
                    yield connection
        except (SQLAlchemyError, OSError) as exc:
            raise StorageError(
                f"the history store failed: {exc.__class__.__name__}: {exc}"
            ) from exc

    async def _migrate(self, engine: _Engine) -> None:
        """Apply the pending migrations once: one task per process, one process at a time."""
        if self._migration_lock is None:
            self._migration_lock = asyncio.Lock()
        async with self._migration_lock:
            if not self._migrated:
                await self._apply_migrations(engine)

    async def _apply_migrations(self, engine: _Engine) -> None:
        async with engine.begin() as connection:
            if connection.dialect.name == "postgresql":  # other processes wait here
                await connection.execute(text("SELECT pg_advisory_xact_lock(7270011)"))
            await connection.run_sync(lambda sync: zl_migrations.create(sync, checkfirst=True))
            done = set((await connection.execute(applied_migrations_query())).scalars())
            for migration in self._upgrades:
                if migration.name in done:
                    continue
                await connection.run_sync(migration.apply)
                await connection.execute(
                    insert(zl_migrations).values(name=migration.name, applied_at=now())
                )
        self._migrated = True

    def forget_after_fork(self) -> None:
        """In a forked child: drop the parent's pool without touching its connections."""
        engine, self._engine_instance = self._engine_instance, None
        if engine is not None:
            engine.sync_engine.dispose(close=False)
        self._migration_lock = None
        self._lock = threading.Lock()

    async def close(self) -> None:
        """Close the connection pool (a later call opens a new one and checks the schema)."""
        await self.call(self._close())

    async def _close(self) -> None:
        engine, self._engine_instance = self._engine_instance, None
        if engine is not None:
            await engine.dispose()
        # The file may be gone or replaced before the next use: migrate (a no-op on an
        # up-to-date schema) and set WAL again then, instead of trusting what was true.
        self._migrated = False
        self._wal = False

    async def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the database loop and await its result from any loop.

        A ``blocking`` database has no loop of its own: the coroutine runs where it is awaited.
        """
        if self.blocking:
            return await coro
        return await self.home.call(coro)
