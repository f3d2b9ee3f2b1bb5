"""Cell values of a statement: whole-đồng amounts and local times, as spreadsheets write them."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
# Largest amount we take: far above GHN's 50,000,000 COD cap, far below BIGINT.
MAX_VND = 10**12
_CURRENCY = re.compile(r"(vnđ|vnd|đồng|dong|đ|d)$", re.IGNORECASE)
_GROUPED = re.compile(r"^\d{1,3}([.,]\d{3})+$")
_WHOLE_WITH_ZEROS = re.compile(r"^(\d+)[.,]0+$")
_FORMATS = (
    "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%d-%m-%Y %H:%M:%S", "%d-%m-%Y",
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d",
)  # fmt: skip


def text_cell(value: Any) -> str:
    """A cell as trimmed text ('' when empty); a whole float (a numeric waybill) has no '.0'."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def amount(value: Any) -> int | None:
    """Whole đồng from 250000, 250000.0, '250.000', '250,000 đ', '1 250 000'; None if empty."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("not an amount")
    number: int | None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise ValueError("not a whole number of đồng")
        number = int(value)
    else:
        number = _amount_text(str(value))
        if number is None:
            return None
    if number < 0:
        raise ValueError("negative amount")
    if number > MAX_VND:
        raise ValueError("amount too large")
    return number


def _amount_text(raw: str) -> int | None:
    text = _CURRENCY.sub("", raw.strip()).strip().replace("\u00a0", "").replace(" ", "")
    if not text or text == "-":
        return None
    if text.isdigit():
        return int(text)
    if _GROUPED.match(text) and len(set(re.findall(r"[.,]", text))) == 1:
        return int(re.sub(r"[.,]", "", text))
    whole = _WHOLE_WITH_ZEROS.match(text)
    if whole:
        return int(whole.group(1))
    raise ValueError("not a whole number of đồng")


def moment(value: Any) -> datetime | None:
    """A UTC time from a datetime cell or 'dd/mm/yyyy [HH:MM[:SS]]' / ISO text (local time)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        when = value
    elif isinstance(value, date):
        when = datetime.combine(value, time())
    elif isinstance(value, str):
        when = _moment_text(value.strip())
    else:
        raise ValueError("not a date")
    if when.tzinfo is None:
        when = when.replace(tzinfo=LOCAL)
    return when.astimezone(UTC)


def _moment_text(text: str) -> datetime:
    for pattern in _FORMATS:
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("not a date (dd/mm/yyyy or yyyy-mm-dd)") from None
