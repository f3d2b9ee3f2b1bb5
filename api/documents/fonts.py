"""The documents' typeface: Be Vietnam Pro, from the `fontpkg-be-vietnam-pro` package in the lock.

Be Vietnam Pro was drawn for Vietnamese: every precomposed letter of the alphabet (ơ ư ạ … ỹ đ Đ)
and the đồng sign ₫ are in its cmap (tests/documents/test_fonts.py checks with fontTools). The file
is found through importlib.resources inside the installed package, never by a path of this
machine, and reportlab embeds only the glyphs a document uses.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import as_file, files

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_PACKAGE = "fontpkg_be_vietnam_pro"
REGULAR = "BeVietnamPro"
BOLD = "BeVietnamPro-Bold"
_FILES = {REGULAR: "BeVietnamPro-Regular.ttf", BOLD: "BeVietnamPro-Bold.ttf"}


def font_file(name: str) -> bytes:
    """The TTF bytes of one registered face, read from the installed package."""
    return (files(FONT_PACKAGE) / "files" / _FILES[name]).read_bytes()


@cache
def register() -> None:
    """Make the faces known to reportlab (once per process)."""
    for name, file_name in _FILES.items():
        with as_file(files(FONT_PACKAGE) / "files" / file_name) as path:
            pdfmetrics.registerFont(TTFont(name, str(path)))
    pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD)
