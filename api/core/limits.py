"""Length limits of the identifiers we take from outside, defined once.

The inbox, the order tables and the connection schemas all size their columns from these, so a
webhook the inbox accepts can always be stored by the code that handles it later, and one that
could not is parked at the door with its reason instead of failing later, over and over.
"""

from __future__ import annotations

SHOP_ID_MAX = 64
PLATFORM_ORDER_ID_MAX = 64
EVENT_KEY_MAX = 255
TOPIC_MAX = 64
OBJECT_ID_MAX = 128
SOURCE_MAX = 32
# Platform access and refresh tokens travel in HTTP headers and query strings.
TOKEN_MAX = 2048
ERROR_MAX = 2000


def unstorable(name: str, value: str | None, limit: int) -> str | None:
    """Why `value` cannot be kept as an identifier (too long, control characters), or None."""
    if value is None:
        return None
    if len(value) > limit:
        return f"{name} is {len(value)} characters, longer than {limit}"
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return f"{name} holds control characters"
    return None


def storable_text(value: str) -> str:
    """Text PostgreSQL can store: NUL (refused in text and jsonb) is kept as its JSON escape."""
    return value.replace("\x00", "\\u0000") if "\x00" in value else value
