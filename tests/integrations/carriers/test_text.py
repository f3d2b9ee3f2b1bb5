"""Byte-limited truncation of Vietnamese text and log masking."""

from __future__ import annotations

import unicodedata

import pytest

from integrations.carriers.text import fold, mask_phone, truncate_chars, truncate_utf8

pytestmark = pytest.mark.pure

ADDRESS = "Thôn Nậm Ngặt, xã Bình Lư, tỉnh Lai Châu — gần nhà văn hoá, hỏi chị Hường bán chè"


def test_short_text_is_untouched() -> None:
    assert truncate_utf8("Gạo Séng Cù", 150) == "Gạo Séng Cù"


def test_no_limit_ever_splits_a_character() -> None:
    for limit in range(len(ADDRESS.encode("utf-8")) + 3):
        cut = truncate_utf8(ADDRESS, limit)
        encoded = cut.encode("utf-8")
        assert len(encoded) <= limit
        assert encoded.decode("utf-8") == cut
        assert ADDRESS.startswith(cut)


def test_three_byte_letters_count_as_three() -> None:
    # "ệ" is 3 bytes: 150 bytes of it is 50 letters, far fewer than 150 characters.
    assert truncate_utf8("ệ" * 80, 150) == "ệ" * 50
    assert truncate_utf8("ệ" * 80, 151) == "ệ" * 50


def test_decomposed_input_is_composed_first() -> None:
    decomposed = unicodedata.normalize("NFD", "Nguyễn Thị Hường")
    assert truncate_utf8(decomposed, 150) == "Nguyễn Thị Hường"


def test_a_letter_is_dropped_with_its_accent_when_the_accent_does_not_fit() -> None:
    # q + combining dot below has no precomposed form: keeping a bare "q" would change the text.
    text = "a" * 148 + "q\u0323"
    assert truncate_utf8(text, 150) == "a" * 148
    assert truncate_utf8(text, 151) == text


def test_char_truncation_and_folding() -> None:
    assert truncate_chars("Đắk Lắk", 3) == "Đắk"
    assert fold("Phường  Buôn Ma Thuột") == "phuong buon ma thuot"
    assert fold("Đắk Lắk") == "dak lak"


def test_phone_masking_keeps_three_digits() -> None:
    assert mask_phone("0912 345 678") == "***678"
    assert mask_phone("12") == "***"
