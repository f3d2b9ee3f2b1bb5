"""Turn platform money values (TikTok decimal strings, Shopee floats) into whole đồng."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from integrations.platforms.types import PlatformPayloadError

_ONE = Decimal(1)


def to_vnd(value: object, field: str, *, platform: str = "") -> int:
    """Convert a decimal string, int or float to int VND, rounding half up; reject NaN and < 0."""
    amount = _to_decimal(value, field, platform)
    if not amount.is_finite():
        raise PlatformPayloadError(f"{field} is not a finite number: {value!r}", platform=platform)
    if amount < 0:
        raise PlatformPayloadError(f"{field} is negative: {value!r}", platform=platform)
    return int(amount.quantize(_ONE, rounding=ROUND_HALF_UP))


def to_vnd_or_zero(value: object, field: str, *, platform: str = "") -> int:
    """Like `to_vnd`, but an absent or empty value means 0 (optional fee fields)."""
    if value is None or value == "":
        return 0
    return to_vnd(value, field, platform=platform)


def _to_decimal(value: object, field: str, platform: str) -> Decimal:
    # bool is an int subclass: True must not silently become 1 đồng.
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise PlatformPayloadError(f"{field} is not a number: {value!r}", platform=platform)
    # repr() of a float is the shortest text that round-trips, i.e. what the platform sent
    # (1004.5 stays 1004.5), so half-up applies to the sent value, not to binary noise.
    text = repr(value) if isinstance(value, float) else str(value).strip()
    try:
        return Decimal(text)
    except InvalidOperation:
        raise PlatformPayloadError(
            f"{field} is not a number: {value!r}", platform=platform
        ) from None
