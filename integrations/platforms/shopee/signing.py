"""Shopee signatures: push verification (§2.3) and v2 API request signing (§2.5)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from urllib.parse import urlsplit


def push_signature(partner_key: str, callback_url: str, raw_body: bytes) -> str:
    """Hex HMAC-SHA256(partner_key, callback URL + "|" + raw body): the `Authorization` value."""
    message = callback_url.encode() + b"|" + raw_body
    return hmac.new(partner_key.encode(), message, hashlib.sha256).hexdigest()


def callback_url_variants(configured_url: str) -> tuple[str, ...]:
    """The URL strings Shopee may have signed for a configured callback URL."""
    # §2.3 (UNCONFIRMED): most integrations sign the configured URL byte for byte; one
    # reference implementation signs host + path without the scheme. Both are accepted.
    parts = urlsplit(configured_url)
    host_and_path = parts.netloc + parts.path
    if parts.query:
        host_and_path += "?" + parts.query
    variants = [configured_url]
    if host_and_path and host_and_path != configured_url:
        variants.append(host_and_path)
    return tuple(variants)


def verify_push(
    partner_key: str,
    callback_url: str,
    raw_body: bytes,
    authorization_header: str | None,
) -> bool:
    """True when `Authorization` signs these exact bytes for the configured callback URL."""
    if not authorization_header:
        return False
    received = authorization_header.strip().encode(errors="replace")
    matches = [
        # Every candidate is compared (no short-circuit) so timing does not reveal which one.
        hmac.compare_digest(push_signature(partner_key, url, raw_body).encode(), received)
        for url in callback_url_variants(callback_url)
    ]
    return any(matches)


def api_sign(
    partner_key: str,
    partner_id: int | str,
    path: str,
    timestamp: int,
    access_token: str | None = None,
    shop_id: int | str | None = None,
) -> str:
    """Hex HMAC-SHA256 of partner_id + path + timestamp [+ access_token + shop_id]."""
    parts: Iterable[object] = (partner_id, path, timestamp)
    if access_token is not None and shop_id is not None:
        # Shop-level calls sign the token and shop too; public calls (auth, push) do not.
        parts = (partner_id, path, timestamp, access_token, shop_id)
    base = "".join(str(part) for part in parts).encode()
    return hmac.new(partner_key.encode(), base, hashlib.sha256).hexdigest()
