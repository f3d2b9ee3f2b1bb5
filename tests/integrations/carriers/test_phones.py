"""Buyer phones in the domestic form carriers expect."""

from __future__ import annotations

import pytest

from integrations.carriers.phones import domestic_phone

pytestmark = pytest.mark.pure


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("(+84)912345678", "0912345678"),
        ("84912345678", "0912345678"),
        ("+84 912 345 678", "0912345678"),
        ("0084912345678", "0912345678"),
        ("+84 0912345678", "0912345678"),
        ("0912.345.678", "0912345678"),
        ("0912345678", "0912345678"),
        ("+84 28 3812 3456", "02838123456"),  # a Hồ Chí Minh City landline
        ("0843123456", "0843123456"),  # a domestic 084 mobile is not a country code
    ],
)
def test_vietnamese_numbers_come_out_domestic(given: str, expected: str) -> None:
    assert domestic_phone(given) == expected


def test_what_is_not_a_vietnamese_number_is_left_for_the_carrier_to_refuse() -> None:
    assert domestic_phone(" không có ") == "không có"
    assert domestic_phone("+1 415 555 0100") == "+1 415 555 0100"
