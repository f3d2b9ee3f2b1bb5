"""The order status rule, without a database: forward only, cancelled from anywhere, finals stay."""

from __future__ import annotations

import pytest

from api.orders.models import OrderStatus
from api.orders.status import (
    PLATFORM_STATUSES,
    SHOPEE_STATUSES,
    TIKTOK_SHOP_STATUSES,
    can_move,
    is_paid_stage,
    normalise,
)

pytestmark = pytest.mark.pure

S = OrderStatus
FORWARD = [
    S.PENDING_PAYMENT,
    S.ON_HOLD,
    S.CONFIRMED,
    S.READY_TO_SHIP,
    S.IN_TRANSIT,
    S.DELIVERED,
    S.COMPLETED,
]


@pytest.mark.parametrize("i", range(len(FORWARD)))
@pytest.mark.parametrize("j", range(len(FORWARD)))
def test_an_order_moves_forward_only(i: int, j: int) -> None:
    # COMPLETED is final, so nothing leaves it even "forward".
    expected = j > i and FORWARD[i] is not S.COMPLETED
    assert can_move(FORWARD[i], FORWARD[j]) is expected


def test_an_order_never_moves_backwards() -> None:
    assert not can_move(S.DELIVERED, S.CONFIRMED)
    assert not can_move(S.IN_TRANSIT, S.PENDING_PAYMENT)
    assert not can_move(S.CONFIRMED, S.ON_HOLD)


@pytest.mark.parametrize("status", [s for s in FORWARD if s is not S.COMPLETED])
def test_an_open_order_can_be_cancelled(status: OrderStatus) -> None:
    assert can_move(status, S.CANCELLED)


@pytest.mark.parametrize("target", list(OrderStatus))
def test_completed_and_cancelled_are_final(target: OrderStatus) -> None:
    assert not can_move(S.COMPLETED, target)
    assert not can_move(S.CANCELLED, target)


def test_staying_put_is_not_a_move() -> None:
    for status in OrderStatus:
        assert not can_move(status, status)


@pytest.mark.parametrize(
    ("platform", "raw", "ours"),
    [
        ("tiktok_shop", "UNPAID", S.PENDING_PAYMENT),
        ("tiktok_shop", "ON_HOLD", S.ON_HOLD),
        ("tiktok_shop", "AWAITING_SHIPMENT", S.CONFIRMED),
        ("tiktok_shop", "PARTIALLY_SHIPPING", S.READY_TO_SHIP),
        ("tiktok_shop", "AWAITING_COLLECTION", S.READY_TO_SHIP),
        ("tiktok_shop", "IN_TRANSIT", S.IN_TRANSIT),
        ("tiktok_shop", "DELIVERED", S.DELIVERED),
        ("tiktok_shop", "COMPLETED", S.COMPLETED),
        ("tiktok_shop", "CANCELLED", S.CANCELLED),
        ("tiktok_shop", "CANCEL", S.CANCELLED),
        ("shopee", "UNPAID", S.PENDING_PAYMENT),
        ("shopee", "PENDING", S.ON_HOLD),
        ("shopee", "INVOICE_PENDING", S.ON_HOLD),
        ("shopee", "READY_TO_SHIP", S.CONFIRMED),
        ("shopee", "PROCESSED", S.READY_TO_SHIP),
        ("shopee", "RETRY_SHIP", S.READY_TO_SHIP),
        ("shopee", "SHIPPED", S.IN_TRANSIT),
        ("shopee", "TO_CONFIRM_RECEIVE", S.DELIVERED),
        ("shopee", "COMPLETED", S.COMPLETED),
        ("shopee", "CANCELLED", S.CANCELLED),
    ],
)
def test_platform_statuses_map_onto_ours(platform: str, raw: str, ours: OrderStatus) -> None:
    assert normalise(platform, raw) is ours
    assert normalise(platform, f"  {raw.lower()} ") is ours


def test_statuses_that_do_not_move_an_order_map_to_nothing() -> None:
    assert normalise("shopee", "IN_CANCEL") is None
    assert normalise("shopee", "TO_RETURN") is None
    assert normalise("tiktok_shop", "SOMETHING_NEW") is None
    assert normalise("lazada", "UNPAID") is None


def test_every_platform_table_is_listed() -> None:
    assert PLATFORM_STATUSES == {"tiktok_shop": TIKTOK_SHOP_STATUSES, "shopee": SHOPEE_STATUSES}
    assert len(TIKTOK_SHOP_STATUSES) == 10
    assert len(SHOPEE_STATUSES) == 10


@pytest.mark.parametrize(
    ("status", "paid"),
    [
        (S.PENDING_PAYMENT, False),
        (S.ON_HOLD, True),
        (S.CONFIRMED, True),
        (S.READY_TO_SHIP, True),
        (S.IN_TRANSIT, True),
        (S.DELIVERED, True),
        (S.COMPLETED, True),
        (S.CANCELLED, False),
    ],
)
def test_paid_stage_starts_on_hold(status: OrderStatus, paid: bool) -> None:
    assert is_paid_stage(status) is paid
