"""One key per database: the key check value, sealing in place, and key rotation.

In: a ``Database`` and the ``TextCipher`` of the key a process holds (or of none). Out:
the ``zl_keys`` row kept right, and every text field a message, a session or a usage
record carries sealed with the database's one key.

- A database is plain until a key is first used on it. That first use seals in place
  whatever is still in clear (plain sessions, and what earlier versions left in clear:
  message ``extra`` with tool-call arguments, names and artifacts; usage error text),
  then stores the key's check value.
- Once a check value is stored, a process without the key may read what is not sealed
  but not write, and a process with another key may do neither: ``StorageError``.
- ``rotate_key`` re-seals everything with a new key in batches; each batch and its
  progress mark commit together, so a crash loses nothing and a second run resumes
  where the first stopped. While a rotation is unfinished nobody else writes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, select, update

from zero_llm.database import Database
from zero_llm.errors import StorageError
from zero_llm.history.crypto import ENCRYPTED_PREFIX, TextCipher
from zero_llm.schema import zl_keys, zl_messages, zl_sessions, zl_usage
from zero_llm.timestamps import now
from zero_llm.usage.sealing import seal_usage_row

if TYPE_CHECKING:
    from zero_llm.database import Connection

__all__ = ["KeyGuard", "KeyState", "key_state", "rotate_key"]

ROW = "history"
BATCH = 200
NO_KEY = (
    "this history is encrypted: set ZERO_LLM_HISTORY_KEY (or history_key_file) to its key; "
    "a process without it may not write to it"
)
WRONG_KEY = (
    "the history key is not the one this database was encrypted with (its key check value "
    "does not match); nothing was read or written"
)
UNFINISHED = (
    "a key rotation of this history is unfinished: run `zero-llm history rotate-key` again "
    "with the same keys to finish it; nothing is written until then"
)


@dataclass(frozen=True)
class KeyState:
    """What ``zl_keys`` says: the key check value, a rotation's target and its progress."""

    check_value: str | None
    rotating_to: str | None
    progress: dict[str, Any]


def key_state_query() -> Select[Any]:
    """The history key's row of ``zl_keys``."""
    return select(zl_keys).where(zl_keys.c.name == ROW)


async def _read_state(connection: Connection) -> KeyState:
    row = (await connection.execute(key_state_query())).one_or_none()
    if row is None:
        return KeyState(None, None, {})
    return KeyState(row.check_value, row.rotating_to, json.loads(row.progress or "{}"))


async def key_state(database: Database) -> KeyState:
    """The database's key state (run on the database loop)."""
    async with database.transaction(read_only=True) as connection:
        return await _read_state(connection)


async def _write_state(connection: Connection, state: KeyState) -> None:
    values = {
        "check_value": state.check_value,
        "rotating_to": state.rotating_to,
        "progress": json.dumps(state.progress),
        "updated_at": now(),
    }
    found = await connection.execute(update(zl_keys).where(zl_keys.c.name == ROW).values(**values))
    if not found.rowcount:
        await connection.execute(zl_keys.insert().values(name=ROW, **values))


class KeyGuard:
    """Checks, once per store, that the store's key is the database's before it is used."""

    def __init__(self, database: Database, cipher: TextCipher) -> None:
        self.database = database
        self.cipher = cipher
        self._reads_ok = False
        self._writes_ok = False
        self._verified: str | None = None

    async def check_write(self, connection: Connection) -> None:
        """Inside a writing transaction: the database is still as ``ensure`` found it.

        Another process may have encrypted or begun rotating the database since this store
        checked; a write would then be plain text, or sealed with a retired key. One read
        of one row, in the writing transaction itself, so no such change slips between.
        """
        state = await _read_state(connection)
        if state.rotating_to is not None:
            raise StorageError(UNFINISHED)
        if state.check_value == self._verified:
            return
        if state.check_value is None:
            if self.cipher.enabled:  # the key's check value was removed: check anew
                self._reads_ok = self._writes_ok = False
                raise StorageError("the history key state changed; try again")
            return
        if not self.cipher.enabled:
            raise StorageError(NO_KEY)
        if not self.cipher.matches(state.check_value):
            raise StorageError(WRONG_KEY)
        self._verified = state.check_value

    async def ensure(self, *, writing: bool) -> None:
        """Refuse (``StorageError``) a key that is not the database's; seal on first use.

        Runs on the database loop. Without a key, reading an encrypted database is let
        through (sealed rows then fail to open, clearly) but writing is refused.
        """
        if self._writes_ok or (self._reads_ok and not writing):
            return
        state = await key_state(self.database)
        if state.rotating_to is not None:
            resumable = state.check_value is None and self.cipher.matches(state.rotating_to)
            if resumable:  # a first sealing was cut short: finish it
                await _reseal(self.database, TextCipher(None), self.cipher, keep_sealed=True)
            elif writing:
                raise StorageError(UNFINISHED)
            else:
                return
        elif state.check_value is None:
            if self.cipher.enabled:
                await self._first_use()
        elif not self.cipher.enabled:
            if writing:
                raise StorageError(NO_KEY)
            self._reads_ok = True
            return
        elif not self.cipher.matches(state.check_value):
            raise StorageError(WRONG_KEY)
        else:
            self._verified = state.check_value
        self._reads_ok = self._writes_ok = True

    async def _first_use(self) -> None:
        """The first key on a database: check it against what earlier versions sealed."""
        m, s = zl_messages, zl_sessions
        async with self.database.transaction(read_only=True) as connection:
            sealed = (
                await connection.execute(
                    select(m.c.content).where(m.c.encrypted.is_(True)).limit(1)
                )
            ).scalar_one_or_none()
            if sealed is None:
                sealed = (
                    await connection.execute(
                        select(s.c.title)
                        .where(s.c.encrypted.is_(True), s.c.title.is_not(None))
                        .limit(1)
                    )
                ).scalar_one_or_none()
        if sealed is not None:
            self.cipher.open(sealed, True)  # a wrong key fails here, before anything is written
        await _reseal(self.database, TextCipher(None), self.cipher, keep_sealed=True)


async def rotate_key(
    database: Database,
    old_key: str | None,
    new_key: str,
    progress: Callable[[str, int], None] | None = None,
) -> int:
    """Re-seal every field of the database with ``new_key``; return the rows re-sealed.

    ``old_key`` is the database's key (None for a plain database). Resumable: a run cut
    short is finished by running it again with the same keys. Runs on the database loop.
    """
    old, new = TextCipher(old_key), TextCipher(new_key)
    state = await key_state(database)
    if state.rotating_to is not None:
        if not new.matches(state.rotating_to):
            raise StorageError(
                "an unfinished rotation of this history is moving to another key: finish it "
                "with that key first"
            )
    elif state.check_value is not None:
        if not old.enabled:
            raise StorageError(NO_KEY)
        if not old.matches(state.check_value):
            raise StorageError(WRONG_KEY)
    opener = TextCipher(new_key, also_opens=[old_key] if old_key else [])
    return await _reseal(database, opener, new, keep_sealed=False, progress=progress)


async def _reseal(
    database: Database,
    opener: TextCipher,
    sealer: TextCipher,
    *,
    keep_sealed: bool,
    progress: Callable[[str, int], None] | None = None,
) -> int:
    """Seal every text field with ``sealer`` in batches, each committed with its progress.

    ``keep_sealed``: leave values already sealed as they are (a first key only seals
    what is clear); otherwise every sealed value is opened with ``opener`` and re-sealed.
    """
    target = sealer.check_value()
    assert target is not None
    async with database.transaction() as connection:
        state = await _read_state(connection)
        if state.rotating_to is None or not sealer.matches(state.rotating_to):
            state = KeyState(state.check_value, target, {})
            await _write_state(connection, state)
    done = 0
    tables: list[tuple[str, Any, Callable[[Any], dict[str, Any]]]] = [
        ("zl_messages", zl_messages, lambda r: _message(r, opener, sealer, keep_sealed)),
        ("zl_sessions", zl_sessions, lambda r: _session(r, opener, sealer, keep_sealed)),
        ("zl_usage", zl_usage, lambda r: _usage(r, opener, sealer, keep_sealed)),
    ]
    for name, table, convert in tables:
        while True:
            async with database.transaction() as connection:
                state = await _read_state(connection)
                cursor = state.progress.get(name)
                query = select(table).order_by(table.c.id).limit(BATCH)
                if cursor is not None:
                    query = query.where(table.c.id > cursor)
                rows = (await connection.execute(query)).all()
                if not rows:
                    break
                for row in rows:
                    changed = convert(row)
                    if changed:
                        await connection.execute(
                            update(table).where(table.c.id == row.id).values(**changed)
                        )
                progress_now = {**state.progress, name: rows[-1].id}
                await _write_state(
                    connection, KeyState(state.check_value, state.rotating_to, progress_now)
                )
            done += len(rows)
            if progress is not None:
                progress(name, done)
    async with database.transaction() as connection:
        await _write_state(connection, KeyState(target, None, {}))
    return done


def _reseal_value(
    value: str | None, sealed: bool, opener: TextCipher, sealer: TextCipher, keep_sealed: bool
) -> str | None:
    """One value as the new key stores it (None stays None)."""
    if value is None:
        return None
    if sealed:
        return value if keep_sealed else sealer.seal(opener.open(value, True))
    return sealer.seal(value)


def _message(row: Any, opener: TextCipher, sealer: TextCipher, keep_sealed: bool) -> dict[str, Any]:
    extra = row.extra or "{}"
    if extra != "{}":
        extra = _reseal_value(
            extra, extra.startswith(ENCRYPTED_PREFIX), opener, sealer, keep_sealed
        )
    values = {
        "content": _reseal_value(row.content, row.encrypted, opener, sealer, keep_sealed),
        "reasoning": _reseal_value(row.reasoning, row.encrypted, opener, sealer, keep_sealed),
        "extra": extra,
        "encrypted": True,
    }
    unchanged = row.encrypted and values["content"] == row.content and extra == row.extra
    return {} if unchanged and values["reasoning"] == row.reasoning else values


def _session(row: Any, opener: TextCipher, sealer: TextCipher, keep_sealed: bool) -> dict[str, Any]:
    metadata = row.metadata or "{}"
    if metadata != "{}":
        metadata = _reseal_value(metadata, row.encrypted, opener, sealer, keep_sealed)
    title = _reseal_value(row.title, row.encrypted, opener, sealer, keep_sealed)
    if row.encrypted and title == row.title and metadata == row.metadata:
        return {}
    return {"title": title, "metadata": metadata, "encrypted": True}


def _usage(row: Any, opener: TextCipher, sealer: TextCipher, keep_sealed: bool) -> dict[str, Any]:
    values = seal_usage_row(
        {
            "error": row.error,
            "fallback_note": row.fallback_note,
            "retries": row.retries,
            "fallbacks": row.fallbacks,
        },
        lambda v: (
            _reseal_value(v, v.startswith(ENCRYPTED_PREFIX), opener, sealer, keep_sealed) or ""
        ),
    )
    return {k: v for k, v in values.items() if v != getattr(row, k)}
