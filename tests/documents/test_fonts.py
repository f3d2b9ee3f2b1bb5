"""The typeface comes from an installed package and covers Vietnamese (checked in its cmap)."""

from __future__ import annotations

import io
import unicodedata

import pytest
from fontTools.ttLib import TTFont  # type: ignore[import-untyped]  # fontTools ships no types

from api.documents import fonts

pytestmark = pytest.mark.pure

VOWELS = "aăâeêioôơuưy"
TONES = "\u0300\u0301\u0303\u0309\u0323"  # huyền, sắc, ngã, hỏi, nặng


def vietnamese_letters() -> str:
    """Every letter of the alphabet with every tone mark, both cases, plus đ Đ and ₫."""
    letters = {unicodedata.normalize("NFC", v + t) for v in VOWELS for t in ("", *TONES)}
    letters |= {c.upper() for c in letters} | set("đĐ₫")
    assert all(len(c) == 1 for c in letters), "every Vietnamese letter has a precomposed form"
    return "".join(sorted(letters))


def test_the_alphabet_has_134_precomposed_letters() -> None:
    assert len(vietnamese_letters()) == 12 * 6 * 2 + 3


@pytest.mark.parametrize("face", [fonts.REGULAR, fonts.BOLD])
def test_font_covers_every_vietnamese_letter_and_the_dong_sign(face: str) -> None:
    cmap = TTFont(io.BytesIO(fonts.font_file(face))).getBestCmap()
    named = "ơ ư ạ ả ấ ầ ẩ ẫ ậ ắ ằ ẳ ẵ ặ ẹ ẻ ẽ ế ề ể ễ ệ ỉ ị ọ ỏ ố ồ ổ ỗ ộ ớ ờ ở ỡ ợ ụ ủ ứ ừ ử ữ ự ỳ ỵ ỷ ỹ đ Đ ₫"
    missing = [c for c in vietnamese_letters() + named.replace(" ", "") if ord(c) not in cmap]
    assert missing == []


def test_font_is_found_inside_the_installed_package() -> None:
    from importlib.metadata import files as dist_files

    shipped = [str(f) for f in dist_files("fontpkg-be-vietnam-pro") or []]
    assert any(name.endswith("BeVietnamPro-Regular.ttf") for name in shipped)
    assert fonts.font_file(fonts.REGULAR)[:4] in (b"\x00\x01\x00\x00", b"true")
