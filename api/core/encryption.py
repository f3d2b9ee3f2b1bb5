"""Secrets at rest: what the database keeps of platform tokens is Fernet ciphertext.

`SECRETS_KEYS` holds one or more Fernet keys, comma-separated. The first one encrypts and every
one decrypts, so rotation is: put a new key first, restart, run `phien secrets rotate` (which
re-encrypts every row with the new key), then drop the old key. Production refuses to start
without the variable (api.core.config); development and tests keep a generated key in
`var/secrets.key`, readable by its owner only.

The keys are process-wide, like the logging setup: the column type below encrypts and decrypts
as rows are written and read, so the code that uses a token never sees ciphertext.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Dialect, Text
from sqlalchemy.types import TypeDecorator

from api.core.config import Settings, get_settings, parse_fernet_keys

KEY_FILE = "secrets.key"


class SecretUnreadable(Exception):
    """Ciphertext that no configured key opens (a key was dropped too early, or data is bad)."""


class Keyring:
    """The configured Fernet keys: the first encrypts, all decrypt."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise ValueError("a keyring needs at least one key")
        self._keys = tuple(keys)
        self._primary = Fernet(keys[0])
        self._all = MultiFernet([Fernet(key) for key in keys])

    def __repr__(self) -> str:
        return f"Keyring({len(self._keys)} keys)"

    @property
    def keys(self) -> tuple[bytes, ...]:
        """The keys, newest first (compared when a process is configured twice)."""
        return self._keys

    def encrypt(self, plaintext: str) -> str:
        """Ciphertext of `plaintext` under the newest key."""
        return self._primary.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        """The plaintext, whichever configured key encrypted it."""
        try:
            return self._all.decrypt(ciphertext.encode()).decode()
        except InvalidToken:
            raise SecretUnreadable("no configured key opens this secret") from None

    def rotate(self, ciphertext: str) -> str:
        """The same plaintext re-encrypted under the newest key."""
        try:
            return self._all.rotate(ciphertext.encode()).decode()
        except InvalidToken:
            raise SecretUnreadable("no configured key opens this secret") from None

    def is_current(self, ciphertext: str) -> bool:
        """Whether the newest key encrypted this (nothing left to rotate)."""
        try:
            self._primary.decrypt(ciphertext.encode())
        except InvalidToken:
            return False
        return True

    def derived_keys(self, purpose: str) -> list[bytes]:
        """One 32-byte key per configured key for another use (signing), newest first."""
        # HKDF with a purpose label: a signature key never equals an encryption key, and it
        # rotates with SECRETS_KEYS instead of being one more secret to configure.
        return [_derive(key, purpose) for key in self._keys]


def _derive(key: bytes, purpose: str) -> bytes:
    raw = base64.urlsafe_b64decode(key)
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode())
    return hkdf.derive(raw)


def development_key(var_dir: Path) -> bytes:
    """The key kept in var/secrets.key, created (mode 0600) on first use."""
    path = var_dir / KEY_FILE
    if path.exists():
        return path.read_bytes().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    draft = var_dir / f".{KEY_FILE}.{os.getpid()}"
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(Fernet.generate_key())
    try:
        # A hard link appears whole or not at all: of two processes starting together, one
        # key wins and the other reads it, never a half-written file.
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return path.read_bytes().strip()


def keyring_for(settings: Settings) -> Keyring:
    """The keys from SECRETS_KEYS, or (outside production) the key under var/."""
    configured = parse_fernet_keys(settings.secrets_keys.get_secret_value())
    if configured:
        return Keyring(configured)
    if settings.environment == "production":
        raise RuntimeError("SECRETS_KEYS is required in production")
    return Keyring([development_key(settings.var_dir)])


_keyring: Keyring | None = None


def configure(settings: Settings) -> Keyring:
    """Use the keys of these settings for every secret this process reads or writes."""
    global _keyring
    _keyring = keyring_for(settings)
    return _keyring


def current_keyring() -> Keyring:
    """The process's keys (read from the environment on first use if nobody configured them)."""
    return _keyring if _keyring is not None else configure(get_settings())


class EncryptedText(TypeDecorator[str]):
    """A text column whose stored value is Fernet ciphertext of the Python value."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        """Encrypt on the way in."""
        return None if value is None else current_keyring().encrypt(str(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        """Decrypt on the way out."""
        return None if value is None else current_keyring().decrypt(str(value))
