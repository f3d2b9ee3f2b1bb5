"""API tokens: high-entropy random strings, stored as SHA-256, shown to their owner once."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "phn_"  # noqa: S105 - a public marker, not a secret


def new_token() -> str:
    """A fresh bearer token (about 256 bits of randomness)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The stored form of a token.

    A plain SHA-256 is enough here (unlike passwords): the token is random and long, so there is
    nothing to brute-force, and a fast hash keeps authentication off the hot path's budget.
    """
    return hashlib.sha256(token.encode()).hexdigest()


def display_prefix(token: str) -> str:
    """The part of a token safe to show and log."""
    return token[:10]
