"""Orders from every channel, their lines, and the audit trail of every change."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel

from api.cooperatives.models import cooperative_fk
from api.core.columns import created_at_field, id_field, updated_at_field
from api.core.limits import PLATFORM_ORDER_ID_MAX, SHOP_ID_MAX


class OrderStatus(StrEnum):
    """Our order status axis (platform vocabularies are normalised onto it)."""

    PENDING_PAYMENT = "pending_payment"
    ON_HOLD = "on_hold"
    CONFIRMED = "confirmed"
    READY_TO_SHIP = "ready_to_ship"
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class PaymentStatus(StrEnum):
    """Who owes what: prepaid orders are paid, COD waits for the carrier to collect."""

    PENDING = "pending"
    PAID = "paid"
    COD_PENDING = "cod_pending"
    COD_COLLECTED = "cod_collected"
    REFUNDED = "refunded"
    VOIDED = "voided"


class FulfilmentStatus(StrEnum):
    """Where the goods are."""

    UNFULFILLED = "unfulfilled"
    RESERVED = "reserved"
    BACKORDERED = "backordered"
    PENDING_SHIPMENT = "pending_shipment"
    HANDED_OFF = "handed_off"
    # The order was cancelled and the carrier asked to drop the parcel: its stock stays
    # reserved until the carrier confirms (a courier who already has it makes it shipped).
    CANCEL_REQUESTED = "cancel_requested"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    RETURNED = "returned"
    CANCELLED = "cancelled"


class OrderFlag(StrEnum):
    """Why an order needs a person's attention; it stays visible, never dropped."""

    UNKNOWN_SHOP = "unknown_shop"
    UNMAPPED_SKU = "unmapped_sku"
    BACKORDERED = "backordered"
    OVER_OFFER_CAP = "over_offer_cap"
    OVER_BUYER_LIMIT = "over_buyer_limit"
    # A direct (card) payment that arrived after its reservation expired, its stock sold
    # meanwhile: the payment is refunded, and the cooperative may want to call the buyer.
    PAID_AFTER_EXPIRY = "paid_after_expiry"


def one_of(column: str, axis: type[StrEnum]) -> CheckConstraint:
    """A CHECK that `column` holds one of the axis's values (named `<column>_known`)."""
    values = ", ".join(f"'{member.value}'" for member in axis)
    return CheckConstraint(f"{column} IN ({values})", name=f"{column}_known")


class Order(SQLModel, table=True):
    """One platform order, upserted on (platform, shop, platform order id)."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("platform", "shop_id", "platform_order_id"),
        Index("ix_orders_cooperative_id_id", "cooperative_id", "id"),
        Index("ix_orders_live_session_id", "live_session_id"),
        Index("ix_orders_flags", "flags", postgresql_using="gin"),
        Index("ix_orders_channel_connection_id", "channel_connection_id"),
        one_of("status", OrderStatus),
        one_of("payment_status", PaymentStatus),
        one_of("fulfilment_status", FulfilmentStatus),
    )

    id: int | None = id_field()
    # NULL only for orders of a shop nobody has connected yet (flagged unknown_shop).
    cooperative_id: int | None = Field(
        default=None, sa_column=cooperative_fk(nullable=True, index=False)
    )
    channel_connection_id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger, ForeignKey("channel_connections.id", ondelete="SET NULL")),
    )
    platform: str = Field(max_length=32)
    shop_id: str = Field(max_length=SHOP_ID_MAX)
    platform_order_id: str = Field(max_length=PLATFORM_ORDER_ID_MAX)
    platform_status: str = Field(default="", max_length=64)
    # The platform's own update time (unix s): an older event never moves the order backwards.
    platform_update_time: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    placed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    status: str = Field(default=OrderStatus.PENDING_PAYMENT.value, max_length=32)
    payment_status: str = Field(default=PaymentStatus.PENDING.value, max_length=32)
    fulfilment_status: str = Field(default=FulfilmentStatus.UNFULFILLED.value, max_length=32)
    payment_method: str = Field(default="cod", max_length=16)
    currency: str = Field(default="VND", max_length=3)
    total_vnd: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    shipping_fee_vnd: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    buyer_id: str = Field(default="", max_length=64)
    buyer_name: str = Field(default="", max_length=200)
    buyer_phone: str = Field(default="", max_length=32)
    # HMAC of the normalised phone (api/orders/phones.py): exact lookup without the number.
    buyer_phone_hash: str | None = Field(default=None, max_length=64, index=True)
    ship_province: str = Field(default="", max_length=100)
    ship_ward: str = Field(default="", max_length=100)
    ship_district: str | None = Field(default=None, max_length=100)
    ship_street: str = Field(default="", max_length=500)
    ship_full_address: str = Field(default="", max_length=1000)
    live_session_id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger, ForeignKey("live_sessions.id", ondelete="SET NULL")),
    )
    flags: list[str] = Field(
        default_factory=list,
        sa_column=Column(ARRAY(String(32)), nullable=False, server_default="{}"),
    )
    flag_reasons: dict[str, str] = Field(
        default_factory=dict, sa_column=Column(JSONB, nullable=False, server_default="{}")
    )
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class OrderLine(SQLModel, table=True):
    """One SKU of an order, with the weight and price it was sold at."""

    __tablename__ = "order_lines"
    __table_args__ = (
        UniqueConstraint("order_id", "platform_sku_id", "unit_price_vnd"),
        Index("ix_order_lines_variant_id", "variant_id"),
    )

    id: int | None = id_field()
    order_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False)
    )
    variant_id: int | None = Field(
        default=None, sa_column=Column(BigInteger, ForeignKey("variants.id", ondelete="SET NULL"))
    )
    live_offer_id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger, ForeignKey("live_offers.id", ondelete="SET NULL")),
    )
    platform_sku_id: str = Field(max_length=64)
    seller_sku: str = Field(default="", max_length=64)
    name: str = Field(default="", max_length=300)
    quantity: int = Field(sa_column=Column(Integer, nullable=False))
    unit_price_vnd: int = Field(sa_column=Column(BigInteger, nullable=False))
    # Snapshot at sale time: tonnage reports must not change when the catalogue does.
    net_weight_g: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    reserved_quantity: int = Field(default=0, sa_column=Column(Integer, nullable=False))


class OrderEvent(SQLModel, table=True):
    """Append-only audit trail: every change, with its source and time."""

    __tablename__ = "order_events"
    __table_args__ = (Index("ix_order_events_order_id_id", "order_id", "id"),)

    id: int | None = id_field()
    order_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False)
    )
    kind: str = Field(max_length=64)
    source: str = Field(max_length=64)
    detail: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONB, nullable=False, server_default=text("'{}'"))
    )
    created_at: datetime = created_at_field()
