"""Encryption of message text at rest, with authenticated encryption (Fernet).

The key comes from ``ZERO_LLM_HISTORY_KEY`` or a key file (a Fernet key: 32 random bytes,
url-safe base64; ``generate_key()`` makes one). Encrypted text is stored with a prefix so
that reading it without the key, or with a wrong key, is a clear ``StorageError``, never
garbage or the ciphertext passed off as text.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from zero_llm.errors import ConfigurationError, StorageError

__all__ = ["ENCRYPTED_PREFIX", "TextCipher", "generate_key", "load_key"]

ENCRYPTED_PREFIX = "zlenc1:"


def generate_key() -> str:
    """A new random key for ``ZERO_LLM_HISTORY_KEY``."""
    return Fernet.generate_key().decode()


def load_key(value: str | None, path: Path | None) -> str | None:
    """The key from its value or, failing that, from its file; None when neither is set."""
    if value:
        return value.strip()
    if path is None:
        return None
    try:
        return path.read_text().strip()
    except OSError as exc:
        raise ConfigurationError(f"cannot read the history key file {path}: {exc}") from exc


class TextCipher:
    """Encrypts and decrypts message text with one key (or refuses without one)."""

    def __init__(self, key: str | None) -> None:
        self._fernet: Fernet | None = None
        if key:
            try:
                self._fernet = Fernet(key.encode())
            except (ValueError, TypeError) as exc:
                raise ConfigurationError(
                    "the history key is not a valid key (32 url-safe base64-encoded bytes; "
                    "make one with `python -c 'from zero_llm.history import generate_key; "
                    "print(generate_key())'`)"
                ) from exc

    @property
    def enabled(self) -> bool:
        """Whether new text is encrypted."""
        return self._fernet is not None

    def seal(self, text: str) -> str:
        """The text as stored: encrypted when a key is set."""
        if self._fernet is None:
            return text
        return ENCRYPTED_PREFIX + self._fernet.encrypt(text.encode()).decode()

    def open(self, stored: str, encrypted: bool) -> str:
        """The text of a stored value; StorageError if it cannot be decrypted."""
        if not encrypted:
            return stored
        if self._fernet is None:
            raise StorageError(
                "this history is encrypted: set ZERO_LLM_HISTORY_KEY (or history_key_file) "
                "to the key it was written with"
            )
        try:
            return self._fernet.decrypt(stored.removeprefix(ENCRYPTED_PREFIX).encode()).decode()
        except InvalidToken as exc:
            raise StorageError(
                "cannot decrypt the history: the key is not the one it was written with"
            ) from exc
