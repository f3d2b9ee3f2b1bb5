"""Orders and lines being taken in: plain objects until the batch writes them.

The intake decides a batch's stock, live-session claims and outbox rows in Python before it
writes anything back, so it needs the rows' values, not ORM entities (building a SQLModel entity
costs more than the SQL that stores it). Field names are the columns'.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from api.orders.models import FulfilmentStatus, PaymentStatus


@dataclass(slots=True)
class LineDraft:
    """An order line about to be inserted."""

    order_id: int
    variant_id: int | None
    platform_sku_id: str
    seller_sku: str
    name: str
    quantity: int
    unit_price_vnd: int
    net_weight_g: int
    reserved_quantity: int = 0
    live_offer_id: int | None = None


@dataclass(slots=True)
class OrderDraft:
    """A first-seen order: its header as inserted, and what the intake decides after."""

    platform: str
    shop_id: str
    platform_order_id: str
    cooperative_id: int | None
    channel_connection_id: int | None
    platform_status: str
    platform_update_time: int
    placed_at: datetime | None
    status: str
    payment_method: str
    currency: str
    total_vnd: int
    shipping_fee_vnd: int
    buyer_id: str
    buyer_name: str
    buyer_phone: str
    buyer_phone_hash: str | None
    ship_province: str
    ship_ward: str
    ship_district: str | None
    ship_street: str
    ship_full_address: str
    payment_status: str = PaymentStatus.PENDING.value
    fulfilment_status: str = FulfilmentStatus.UNFULFILLED.value
    flags: list[str] = field(default_factory=list)
    flag_reasons: dict[str, str] = field(default_factory=dict)
    live_session_id: int | None = None
    id: int | None = None
