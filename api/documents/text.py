"""How figures and words look on a batch document: VND, kilograms, dates, fitted Vietnamese text."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from datetime import date, datetime
from zoneinfo import ZoneInfo

from reportlab.pdfbase.pdfmetrics import stringWidth

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
ELLIPSIS = "…"


def nfc(text: str) -> str:
    """Composed form: every Vietnamese letter is one precomposed glyph the font has."""
    return unicodedata.normalize("NFC", text)


def money(vnd: int) -> str:
    """`1234000` -> `1.234.000 ₫` (Vietnamese thousands dots)."""
    sign = "-" if vnd < 0 else ""
    return f"{sign}{abs(vnd):,} ₫".replace(",", ".")


def kg(grams: int) -> str:
    """`1250` -> `1,25 kg` (decimal comma, up to three decimals, no trailing zeros)."""
    whole, rest = divmod(abs(grams), 1000)
    sign = "-" if grams < 0 else ""
    head = f"{whole:,}".replace(",", ".")
    tail = f"{rest:03d}".rstrip("0")
    return f"{sign}{head},{tail} kg" if tail else f"{sign}{head} kg"


def kg_number(grams: int) -> float:
    """Kilograms as a number for spreadsheets."""
    return round(grams / 1000, 3)


def day(value: date) -> str:
    """`29/11/2026`, as people write dates in Vietnam."""
    return value.strftime("%d/%m/%Y")


def moment(value: datetime) -> str:
    """A timestamp shown in Vietnam's time zone."""
    local = value.astimezone(LOCAL_TZ) if value.tzinfo else value
    return local.strftime("%H:%M %d/%m/%Y")


def fit(text: str, font: str, size: float, width: float) -> str:
    """The text cut with an ellipsis so that it fits `width` points on one line."""
    text = nfc(text)
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + ELLIPSIS, font, size) > width:
        text = text[:-1]
    return text.rstrip() + ELLIPSIS


def wrap(text: str, font: str, size: float, width: float, max_lines: int) -> list[str]:
    """Word-wrapped lines of at most `width` points; the last one fitted with an ellipsis."""
    lines: list[str] = []
    words: Iterator[str] = iter(nfc(text).split())
    current = ""
    for word in words:
        candidate = f"{current} {word}".strip()
        if stringWidth(candidate, font, size) <= width or not current:
            current = candidate
            continue
        lines.append(current)
        current = word
        if len(lines) == max_lines:
            current = " ".join([word, *words])
            break
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], " ".join(lines[max_lines - 1 :])]
    return [fit(line, font, size, width) for line in lines]
