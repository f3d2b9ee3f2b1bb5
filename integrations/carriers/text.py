"""Text helpers shared by carrier request builders: byte-limited truncation and log masking."""

from __future__ import annotations

import unicodedata
from functools import lru_cache


def truncate_utf8(text: str, max_bytes: int) -> str:
    """Cut `text` to `max_bytes` UTF-8 bytes without splitting a character or its accents."""
    normalised = unicodedata.normalize("NFC", text)
    if len(normalised.encode("utf-8")) <= max_bytes:
        return normalised
    kept: list[str] = []
    used = 0
    for char in normalised:
        size = len(char.encode("utf-8"))
        if used + size > max_bytes:
            break
        kept.append(char)
        used += size
    cut_at = len(kept)
    # A combining mark left outside the limit belongs to the last kept base letter: keeping the
    # bare letter would silently change the word ("ạ" → "a"), so drop the whole cluster instead.
    if cut_at < len(normalised) and unicodedata.combining(normalised[cut_at]):
        while kept and unicodedata.combining(kept[-1]):
            kept.pop()
        if kept:
            kept.pop()
    return "".join(kept).rstrip()


def truncate_chars(text: str, max_chars: int) -> str:
    """Cut `text` to at most `max_chars` code points (for carriers that count characters)."""
    normalised = unicodedata.normalize("NFC", text)
    return normalised if len(normalised) <= max_chars else normalised[:max_chars].rstrip()


def mask_phone(phone: str) -> str:
    """Keep only the last three digits of a phone number, for logs."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return f"***{digits[-3:]}" if len(digits) > 3 else "***"


# Cached: every booking compares the receiver's ward with each ward name of the province, and
# the names (a few thousand) repeat across bookings.
@lru_cache(maxsize=65_536)
def fold(name: str) -> str:
    """Lower-case, strip Vietnamese diacritics (đ → d) and collapse spaces, for name comparison."""
    decomposed = unicodedata.normalize("NFD", name.replace("Đ", "D").replace("đ", "d"))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.lower().split())
