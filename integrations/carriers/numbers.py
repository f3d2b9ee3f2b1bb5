"""Numbers from carrier JSON, which arrive as numbers or as strings ("35000", "35000.0", "")."""

from __future__ import annotations

from typing import Any


def optional_int(value: Any) -> int | None:
    """The whole number in `value`, or None when it is missing or unreadable."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(value)  # "35000" exactly, without a detour through float
    except (TypeError, ValueError):
        pass
    try:
        return int(float(value))
    except (TypeError, ValueError, OverflowError):  # "abc", "nan", "1e999"
        return None


def as_int(value: Any, default: int = 0) -> int:
    """The whole number in `value`, or `default` when it is missing or unreadable."""
    number = optional_int(value)
    return default if number is None else number
