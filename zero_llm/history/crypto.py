"""Encryption of message text at rest, with authenticated encryption (Fernet).

The key comes from ``ZERO_LLM_HISTORY_KEY`` or a key file (a Fernet key: 32 random bytes,
url-safe base64; ``generate_key()`` makes one). A key file must be private to its owner
(no group or other permission bits), as ssh asks of a private key: a key others can read
protects nothing, and saying ``ok`` about it would be a lie. Encrypted text is stored with
a prefix so that reading it without the key, or with a wrong key, is a clear
``StorageError``, never garbage or the ciphertext passed off as text. ``check_value`` is a
known text sealed with the key: stored once per database, it tells a wrong key apart
before anything is written with it. ``cryptography`` is imported only when a key is used.
"""

from __future__ import annotations

import stat
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from zero_llm.errors import ConfigurationError, StorageError

if TYPE_CHECKING:
    from cryptography.fernet import Fernet, MultiFernet

__all__ = ["ENCRYPTED_PREFIX", "TextCipher", "generate_key", "load_key"]

ENCRYPTED_PREFIX = "zlenc1:"
KEY_CHECK_TEXT = "zero-llm history key check v1"
"""The known text whose sealed form is a database's key check value."""


def generate_key() -> str:
    """A new random key for ``ZERO_LLM_HISTORY_KEY``."""
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def load_key(value: str | None, path: Path | None) -> str | None:
    """The key from its value or, failing that, from its file; None when neither is set."""
    if value:
        return value.strip()
    if path is None:
        return None
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigurationError(
                f"the history key file {path} is open to other users (mode "
                f"{stat.S_IMODE(mode):04o}); make it private with `chmod 600 {path}`"
            )
        return path.read_text().strip()
    except OSError as exc:
        raise ConfigurationError(f"cannot read the history key file {path}: {exc}") from exc


def _fernet(key: str) -> Fernet:
    from cryptography.fernet import Fernet

    try:
        return Fernet(key.encode())
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(
            "the history key is not a valid key (32 url-safe base64-encoded bytes; "
            "make one with `python -c 'from zero_llm.history import generate_key; "
            "print(generate_key())'`)"
        ) from exc


class TextCipher:
    """Encrypts and decrypts message text with one key (or refuses without one).

    ``also_opens`` are older keys that can still decrypt (a rotation reads with both).
    """

    def __init__(self, key: str | None, also_opens: Sequence[str] = ()) -> None:
        self._fernet: Fernet | MultiFernet | None = None
        if key:
            from cryptography.fernet import MultiFernet

            primary = _fernet(key)
            older = [_fernet(k) for k in also_opens]
            self._fernet = MultiFernet([primary, *older]) if older else primary

    @property
    def enabled(self) -> bool:
        """Whether new text is encrypted."""
        return self._fernet is not None

    def seal(self, text: str) -> str:
        """The text as stored: encrypted when a key is set."""
        if self._fernet is None:
            return text
        return ENCRYPTED_PREFIX + self._fernet.encrypt(text.encode()).decode()

    def check_value(self) -> str | None:
        """The key check value of this key (None without a key)."""
        return self.seal(KEY_CHECK_TEXT) if self._fernet is not None else None

    def matches(self, check_value: str) -> bool:
        """Whether ``check_value`` was made with this key."""
        try:
            return self.open(check_value, True) == KEY_CHECK_TEXT
        except StorageError:
            return False

    def open_sealed(self, stored: str) -> str:
        """The text of a value stored sealed or in clear, told apart by its prefix."""
        return self.open(stored, stored.startswith(ENCRYPTED_PREFIX))

    def open(self, stored: str, encrypted: bool) -> str:
        """The text of a stored value; StorageError if it cannot be decrypted."""
        if not encrypted:
            return stored
        if self._fernet is None:
            raise StorageError(
                "this history is encrypted: set ZERO_LLM_HISTORY_KEY (or history_key_file) "
                "to the key it was written with"
            )
        from cryptography.fernet import InvalidToken

        try:
            return self._fernet.decrypt(stored.removeprefix(ENCRYPTED_PREFIX).encode()).decode()
        except InvalidToken as exc:
            raise StorageError(
                "cannot decrypt the history: the key is not the one it was written with"
            ) from exc
