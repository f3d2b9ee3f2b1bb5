"""Vietnamese phone numbers in the domestic form carriers expect (`0912345678`)."""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s().\-]")
_NATIONAL_DIGITS = (9, 10)  # mobile numbers have 9 after the 0, landlines 10


def domestic_phone(raw: str) -> str:
    """`0912345678` from `(+84)912345678`, `+84 912 345 678`, `84912345678` or `0084…`.

    Anything that is not a Vietnamese number in one of those forms comes back as given, so a
    carrier refuses it with its own message instead of us guessing.
    """
    compact = _SEPARATORS.sub("", raw.strip())
    for prefix in ("+84", "0084", "84"):
        national = compact.removeprefix(prefix)
        if national != compact and national.isdigit() and len(national) in _NATIONAL_DIGITS:
            # "+84 0912…" happens too: the trunk 0 is written once either way.
            return national if national.startswith("0") else "0" + national
    if compact.isdigit() and compact.startswith("0"):
        return compact
    return raw.strip()
