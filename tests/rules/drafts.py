"""Order and line drafts for the pure rule tests (no database anywhere)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from api.orders.drafts import LineDraft, OrderDraft

_seq = itertools.count(1)
NOON = datetime(2026, 11, 4, 12, 0, tzinfo=UTC)


def order(
    *, buyer_id: str = "", placed_at: datetime | None = NOON, status: str = "confirmed"
) -> OrderDraft:
    """A confirmed first-seen order with an id, as the intake holds it."""
    n = next(_seq)
    return OrderDraft(
        platform="tiktok_shop", shop_id="7000000001", platform_order_id=f"PO-{n}",
        cooperative_id=1, channel_connection_id=1, platform_status="AWAITING_SHIPMENT",
        platform_update_time=0, placed_at=placed_at, status=status, payment_method="cod",
        currency="VND", total_vnd=0, shipping_fee_vnd=0, buyer_id=buyer_id, buyer_name="",
        buyer_phone="", buyer_phone_hash=None, ship_province="", ship_ward="", ship_district=None,
        ship_street="",
        ship_full_address="", id=n,
    )  # fmt: skip


def line(variant_id: int | None, quantity: int = 1, sku: str = "") -> LineDraft:
    """One line of an order (`sku` names it in flag reasons)."""
    n = next(_seq)
    return LineDraft(
        order_id=0, variant_id=variant_id, platform_sku_id=f"PSKU-{n}", seller_sku=sku,
        name="", quantity=quantity, unit_price_vnd=100_000, net_weight_g=1000,
    )  # fmt: skip
