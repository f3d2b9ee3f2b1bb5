"""Response bodies for orders (orders are created by the platforms, not through this API)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from api.core.schemas import Output


class OrderLineRead(Output):
    """One line of an order."""

    id: int
    variant_id: int | None
    live_offer_id: int | None
    platform_sku_id: str
    seller_sku: str
    name: str
    quantity: int
    unit_price_vnd: int
    net_weight_g: int
    reserved_quantity: int


class OrderEventRead(Output):
    """One entry of the audit trail."""

    id: int
    kind: str
    source: str
    detail: dict[str, Any]
    created_at: datetime


class OrderRead(Output):
    """An order with its three status axes and flags."""

    id: int
    cooperative_id: int | None
    channel_connection_id: int | None
    platform: str
    shop_id: str
    platform_order_id: str
    platform_status: str
    status: str
    payment_status: str
    fulfilment_status: str
    payment_method: str
    total_vnd: int
    shipping_fee_vnd: int
    buyer_name: str
    buyer_phone: str
    ship_province: str
    ship_ward: str
    ship_district: str | None
    ship_street: str
    ship_full_address: str
    live_session_id: int | None
    flags: list[str]
    flag_reasons: dict[str, str]
    placed_at: datetime | None
    created_at: datetime
    updated_at: datetime


class OrderDetail(OrderRead):
    """An order with its lines and audit trail."""

    lines: list[OrderLineRead]
    events: list[OrderEventRead]
