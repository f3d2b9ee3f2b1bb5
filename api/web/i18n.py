"""Message catalogs (Vietnamese first, English second) and locale-aware formatting, via Babel.

The catalogs are the `.po` files under `api/web/locale/`; they are compiled in memory when the
process starts, so no generated `.mo` file lives in the repository. `pybabel extract -F
babel.cfg -o messages.pot .` then `pybabel update -i messages.pot -d api/web/locale` refreshes
them after templates change.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from functools import cache
from importlib.resources import files
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
_LOCALES = {"vi": "vi_VN", "en": "en_GB"}
VN = ZoneInfo("Asia/Ho_Chi_Minh")


def language(requested: str | None) -> str:
    """A language we have, defaulting to Vietnamese."""
    return requested if requested in LANGUAGES else DEFAULT_LANGUAGE


@cache
def translations(lang: str) -> Translations:
    """The compiled catalog of `lang`."""
    po = files("api.web").joinpath("locale", lang, "LC_MESSAGES", "messages.po").read_bytes()
    catalog = read_po(io.BytesIO(po), locale=_LOCALES[lang])
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def number(value: float, lang: str, digits: int = 0) -> str:
    """A number with the language's separators (Vietnamese: 1.234,5)."""
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return str(format_decimal(value, format=pattern, locale=_LOCALES[lang]))


def local_time(value: datetime | None, lang: str) -> str:
    """A time shown in Asia/Ho_Chi_Minh."""
    if value is None:
        return "–"
    return str(format_datetime(value.astimezone(VN), "dd/MM HH:mm", locale=_LOCALES[lang]))


def local_day(value: date, lang: str) -> str:
    """A calendar day with its weekday ("Thứ Hai, 30/11/2026")."""
    return str(format_date(value, "EEEE, dd/MM/yyyy", locale=_LOCALES[lang]))
