"""Buyer phones as a lookup key: the domestic form, HMAC-SHA256 with a server key.

The hash lets operators find an order by the phone a buyer gives them without an index over the
phone numbers themselves; without the key the column cannot be reversed by trying every number.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from api.core.config import get_settings

_NOISE = re.compile(r"[\s.\-()]")
_DOMESTIC = re.compile(r"0\d{9,10}")


def normalise_phone(phone: str) -> str | None:
    """0912345678 from '+84 912 345 678', '84912345678' or '0912.345.678'; None if not a phone."""
    digits = _NOISE.sub("", phone)
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) in (11, 12):
        digits = "0" + digits[2:]
    return digits if _DOMESTIC.fullmatch(digits) else None


def phone_digest(phone: str, key: bytes | None = None) -> str | None:
    """The keyed hash stored in orders.buyer_phone_hash (None when `phone` is not a phone)."""
    normal = normalise_phone(phone)
    if normal is None:
        return None
    secret = key if key is not None else get_settings().phone_key()
    return hmac.new(secret, normal.encode(), hashlib.sha256).hexdigest()
