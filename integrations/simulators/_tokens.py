"""Shop tokens signed with the simulator's own secret, so a restarted simulator still knows them.

A simulator keeps its live tokens in memory, but the tokens it hands out on a code exchange or a
refresh are stored in our database, which outlives it: after `make run` restarts, or beside a
second instance (whose simulators listen on other ports but share the database), a connection
holds tokens that the simulator answering now never issued. So an issued token is a random nonce
plus an HMAC over (kind, shop scope, nonce) keyed by the app secret / partner key: any simulator
process with the same secret (every `make run`, whose simulators use the default configs)
recognises it and learns it on first sight. A refresh token stays single use within a process;
another process cannot know it was spent (the simulators share no state).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable

_NONCE_HEX = 16
_MAC_HEX = 16


class TokenSigner:
    """Makes and recognises signed tokens: `prefix` + 16 hex of nonce + 16 hex of MAC."""

    def __init__(self, key: str, prefix: str = "") -> None:
        self._key = key.encode()
        self._prefix = prefix

    def make(self, kind: str, scope: str, nonce: str | None = None) -> str:
        """A new token of `kind` ("access", "refresh") for `scope` (the shops it covers)."""
        nonce = nonce or secrets.token_hex(_NONCE_HEX // 2)
        message = f"{kind}|{scope}|{nonce}".encode()
        mac = hmac.new(self._key, message, hashlib.sha256).hexdigest()[:_MAC_HEX]
        return f"{self._prefix}{nonce}{mac}"

    def scope_of(self, kind: str, token: str, scopes: Iterable[str]) -> str | None:
        """Which of `scopes` this token was signed for, or None when it is not one of ours."""
        body = token.removeprefix(self._prefix)
        if not token.startswith(self._prefix) or len(body) != _NONCE_HEX + _MAC_HEX:
            return None
        nonce = body[:_NONCE_HEX]
        for scope in scopes:
            if hmac.compare_digest(self.make(kind, scope, nonce), token):
                return scope
        return None
