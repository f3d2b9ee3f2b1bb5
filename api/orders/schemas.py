"""Response bodies for orders (orders are created by the platforms, not through this API)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ConfigDict, Field

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


class OrderOverview(Output):
    """An order without the buyer's person: what programme managers see (place, money, status)."""

    # Forbidding extra keys keeps the audiences apart when one response may be either shape.
    model_config = ConfigDict(from_attributes=True, extra="forbid")

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
    ship_province: str = Field(description="Delivery province")
    ship_ward: str = Field(description="Delivery commune or ward")
    ship_district: str | None
    live_session_id: int | None
    flags: list[str]
    flag_reasons: dict[str, str]
    placed_at: datetime | None
    created_at: datetime
    updated_at: datetime


class OrderRead(OrderOverview):
    """An order with its buyer: for the cooperative, logistics staff and admins."""

    buyer_name: str
    buyer_phone: str
    ship_street: str
    ship_full_address: str


class OrderOverviewDetail(OrderOverview):
    """An order without the buyer's person, with its lines and audit trail."""

    lines: list[OrderLineRead]
    events: list[OrderEventRead]


class OrderDetail(OrderRead):
    """An order with its buyer, lines and audit trail."""

    lines: list[OrderLineRead]
    events: list[OrderEventRead]


# What a response holds depends on who asks: programme managers get the overview shapes.
AnyOrder = OrderRead | OrderOverview
AnyOrderDetail = OrderDetail | OrderOverviewDetail
