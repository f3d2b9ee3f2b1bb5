"""TikTok Shop signatures: webhook verification (§1.4) and API request signing (§1.7)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

# §1.7 step 1: these never take part in the API signature.
_UNSIGNED_PARAMS = frozenset({"sign", "access_token"})


def webhook_signature(app_key: str, app_secret: str, raw_body: bytes) -> str:
    """Lowercase hex HMAC-SHA256(app_secret, app_key + raw body): the `Authorization` value."""
    message = app_key.encode() + raw_body
    return hmac.new(app_secret.encode(), message, hashlib.sha256).hexdigest()


def verify_webhook(
    app_key: str, app_secret: str, raw_body: bytes, authorization_header: str | None
) -> bool:
    """True when the `Authorization` header is the webhook signature of exactly these bytes."""
    if not authorization_header:
        return False
    expected = webhook_signature(app_key, app_secret, raw_body).encode()
    received = authorization_header.strip().encode(errors="replace")
    # Constant time: a byte-by-byte early exit would let a sender guess the digest.
    return hmac.compare_digest(expected, received)


def api_sign(
    app_secret: str,
    path: str,
    params: Mapping[str, object],
    body: bytes | None = None,
) -> str:
    """The `sign` query value: HMAC-SHA256 of secret + path + sorted params + body + secret."""
    pairs = sorted(
        (key, value)
        for key, value in params.items()
        # Arrays are dropped (§1.7 step 1); `ids` is already a comma-joined string when signed.
        if key not in _UNSIGNED_PARAMS and not isinstance(value, list | tuple | dict)
    )
    base = path.encode() + "".join(f"{key}{value}" for key, value in pairs).encode()
    if body:
        base += body
    secret = app_secret.encode()
    return hmac.new(secret, secret + base + secret, hashlib.sha256).hexdigest()
