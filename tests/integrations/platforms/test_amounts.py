"""Money from platforms becomes whole đồng: strings and floats, half up, nothing negative or NaN."""

import pytest

from integrations.platforms.amounts import to_vnd, to_vnd_or_zero
from integrations.platforms.types import PlatformPayloadError

pytestmark = pytest.mark.pure


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("150000", 150000),
        ("150000.00", 150000),
        ("150000.5", 150001),
        ("150000.49", 150000),
        (" 99000 ", 99000),
        (1004.0, 1004),
        (1004.5, 1005),
        (2.675, 3),
        (0.5, 1),
        (250000, 250000),
        ("0", 0),
    ],
)
def test_amounts_round_half_up(value: object, expected: int) -> None:
    assert to_vnd(value, "amount") == expected


@pytest.mark.parametrize("value", [float("nan"), "NaN", float("inf"), "-Infinity", "1e400x"])
def test_non_finite_or_garbage_is_rejected(value: object) -> None:
    with pytest.raises(PlatformPayloadError, match="amount"):
        to_vnd(value, "amount")


@pytest.mark.parametrize("value", [-1, "-0.6", -150000.0])
def test_negative_is_rejected(value: object) -> None:
    with pytest.raises(PlatformPayloadError, match="negative"):
        to_vnd(value, "total_amount")


@pytest.mark.parametrize("value", [True, None, [1], {"v": 1}])
def test_non_numbers_are_rejected(value: object) -> None:
    with pytest.raises(PlatformPayloadError, match="not a number"):
        to_vnd(value, "amount")


def test_optional_amounts_default_to_zero() -> None:
    assert to_vnd_or_zero(None, "shipping_fee") == 0
    assert to_vnd_or_zero("", "shipping_fee") == 0
    assert to_vnd_or_zero("30000", "shipping_fee") == 30000
