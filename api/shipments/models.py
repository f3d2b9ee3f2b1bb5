"""Shipments: one per order hand-off (the outbox row the hand-off job books), and tracking."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from api.cooperatives.models import cooperative_fk
from api.core.columns import created_at_field, id_field, updated_at_field

SHIPMENT_STATUSES = (
    "pending", "handed_off", "picked_up", "in_transit", "out_for_delivery", "delivered",
    "delivery_failed", "returning", "returned", "cancelled",
)  # fmt: skip
CARRIERS = ("viettel_post", "ghn")


def _values(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


class Shipment(SQLModel, table=True):
    """An order's parcel: written pending with the order's confirmation, booked by a job."""

    __tablename__ = "shipments"
    __table_args__ = (
        # One live hand-off per order; a cancelled one may be followed by a new one.
        Index(
            "uq_shipments_order_id_active",
            "order_id",
            unique=True,
            postgresql_where=text("status <> 'cancelled'"),
        ),
        UniqueConstraint("reference"),
        UniqueConstraint("carrier", "waybill"),
        CheckConstraint(f"status IN ({_values(SHIPMENT_STATUSES)})", name="status_known"),
        CheckConstraint(f"carrier IN ({_values(CARRIERS)})", name="carrier_known"),
        CheckConstraint("weight_g > 0", name="weight_positive"),
        CheckConstraint("cod_amount_vnd >= 0", name="cod_not_negative"),
        Index("ix_shipments_cooperative_id_status", "cooperative_id", "status"),
        # Operators look shipments up by order, cancelled ones included.
        Index("ix_shipments_order_id", "order_id"),
        Index(
            "ix_shipments_needs_booking",
            "id",
            postgresql_where=text("status = 'pending' AND waybill IS NULL"),
        ),
    )

    id: int | None = id_field()
    order_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("orders.id", ondelete="RESTRICT"), nullable=False)
    )
    cooperative_id: int = Field(sa_column=cooperative_fk(index=False))
    carrier: str = Field(max_length=32)
    # Our idempotency key at the carrier (ORDER_NUMBER / client_order_code).
    reference: str = Field(max_length=64)
    waybill: str | None = Field(default=None, max_length=64)
    service_code: str | None = Field(default=None, max_length=32)
    sort_code: str | None = Field(default=None, max_length=64)
    fee_vnd: int | None = Field(default=None, sa_column=Column(BigInteger))
    cod_amount_vnd: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    cod_collected_vnd: int | None = Field(default=None, sa_column=Column(BigInteger))
    weight_g: int = Field(sa_column=Column(Integer, nullable=False))
    status: str = Field(default="pending", max_length=32)
    carrier_status: str | None = Field(default=None, max_length=64)
    status_reason: str | None = Field(default=None, max_length=500)
    status_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    # Receiver as booked; logistics staff may correct it after a bad-address refusal.
    receiver_name: str = Field(default="", max_length=200)
    receiver_phone: str = Field(default="", max_length=32)
    receiver_province: str = Field(default="", max_length=100)
    receiver_ward: str = Field(default="", max_length=100)
    receiver_district: str | None = Field(default=None, max_length=100)
    receiver_street: str = Field(default="", max_length=500)
    # Set when the carrier refused the booking for good (bad address, route): a person acts.
    booking_error: str | None = Field(default=None, max_length=1000)
    booking_attempts: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default="0")
    )
    booked_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    # A job is talking to the carrier about this row until then (a lease, taken and committed
    # before the call): nobody else books or cancels it meanwhile, and no lock is held.
    carrier_call_until: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True))
    )
    # The carrier's answer to a booking was lost and its lookup could not say: the parcel may
    # be booked. Its webhook or a later lookup settles it; it is not a refusal.
    awaiting_confirmation_since: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True))
    )
    # The print link, fetched once by a job after the booking and refreshed before it expires.
    label_url: str | None = Field(default=None, max_length=1000)
    label_expires_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True))
    )
    # The batch job that books this row (NULL: its own hand_off_shipment job). The sweeper asks
    # Redis about this job to tell a row waiting its turn from one stranded by a dead worker.
    handoff_job_id: str | None = Field(default=None, max_length=64)
    pickup_batch_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class ShipmentEvent(SQLModel, table=True):
    """One carrier tracking event, deduplicated on (carrier, event key)."""

    __tablename__ = "shipment_events"
    __table_args__ = (
        UniqueConstraint("carrier", "event_key"),
        Index("ix_shipment_events_shipment_id_id", "shipment_id", "id"),
    )

    id: int | None = id_field()
    shipment_id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger, ForeignKey("shipments.id", ondelete="CASCADE")),
    )
    carrier: str = Field(max_length=32)
    event_key: str = Field(max_length=255)
    waybill: str = Field(max_length=64)
    raw_status: str = Field(max_length=64)
    status: str = Field(max_length=32)
    reason: str | None = Field(default=None, max_length=500)
    occurred_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    # applied | stale (older than the current status) | after_terminal | unknown_waybill
    outcome: str = Field(default="applied", max_length=32)
    detail: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONB, nullable=False, server_default=text("'{}'"))
    )
    created_at: datetime = created_at_field()
