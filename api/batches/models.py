"""Pickup batches, the parcels in them, and their trail.

A batch is one carrier's pickup at one cooperative's collection point in one window. A parcel
(shipment) belongs to at most one open batch: `pickup_batch_parcels.open` is true while the
batch is open, packing or ready, and a partial unique index on `shipment_id WHERE open` lets the
database, not the code, refuse a second one. Handing the batch over clears `open` for its rows.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from api.cooperatives.models import cooperative_fk
from api.core.columns import created_at_field, id_field, updated_at_field
from api.shipments.models import CARRIERS

BATCH_STATUSES = ("open", "packing", "ready", "handed_over", "closed")
# A parcel in a batch of these statuses is "in an open batch" (not yet with the driver).
OPEN_STATUSES = ("open", "packing", "ready")
EVENT_SOURCES = ("api", "job", "system")


def _values(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


class PickupBatch(SQLModel, table=True):
    """One carrier's pickup at one collection point in one window."""

    __tablename__ = "pickup_batches"
    __table_args__ = (
        # The proposal job may run twice (or on two workers): one batch per slot.
        UniqueConstraint("cooperative_id", "carrier", "pickup_date", "window_start"),
        CheckConstraint(f"status IN ({_values(BATCH_STATUSES)})", name="status_known"),
        CheckConstraint(f"carrier IN ({_values(CARRIERS)})", name="carrier_known"),
        CheckConstraint("window_end > window_start", name="window_ordered"),
        Index("ix_pickup_batches_pickup_date_status", "pickup_date", "status"),
    )

    id: int | None = id_field()
    cooperative_id: int = Field(sa_column=cooperative_fk(index=False))
    carrier: str = Field(max_length=32)
    pickup_date: date = Field(sa_column=Column(Date, nullable=False))
    window_start: time = Field(sa_column=Column(Time, nullable=False))
    window_end: time = Field(sa_column=Column(Time, nullable=False))
    status: str = Field(default="open", max_length=16)
    status_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    # NULL: proposed by the job.
    created_by: int | None = Field(
        default=None,
        sa_column=Column(BigInteger, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    )
    handed_over_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class PickupBatchParcel(SQLModel, table=True):
    """A shipment in a batch; removing it deletes the row (the trail keeps the story)."""

    __tablename__ = "pickup_batch_parcels"
    __table_args__ = (
        UniqueConstraint("batch_id", "shipment_id"),
        Index(
            "uq_pickup_batch_parcels_open_shipment",
            "shipment_id",
            unique=True,
            postgresql_where=text("open"),
        ),
    )

    id: int | None = id_field()
    batch_id: int = Field(
        sa_column=Column(
            BigInteger, ForeignKey("pickup_batches.id", ondelete="CASCADE"), nullable=False
        )
    )
    shipment_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("shipments.id", ondelete="CASCADE"), nullable=False)
    )
    # True while the batch is open, packing or ready (not yet with the driver).
    open: bool = Field(
        default=True, sa_column=Column(Boolean, nullable=False, server_default=text("true"))
    )
    added_at: datetime = created_at_field()
    packed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    packed_by: int | None = Field(
        default=None,
        sa_column=Column(BigInteger, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    )


class BatchEvent(SQLModel, table=True):
    """Append-only trail of a batch: every batch and parcel transition, who and when."""

    __tablename__ = "batch_events"
    __table_args__ = (
        Index("ix_batch_events_batch_id_id", "batch_id", "id"),
        Index("ix_batch_events_shipment_id", "shipment_id"),
        CheckConstraint(f"source IN ({_values(EVENT_SOURCES)})", name="source_known"),
    )

    id: int | None = id_field()
    batch_id: int = Field(
        sa_column=Column(
            BigInteger, ForeignKey("pickup_batches.id", ondelete="CASCADE"), nullable=False
        )
    )
    shipment_id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger, ForeignKey("shipments.id", ondelete="SET NULL")),
    )
    action: str = Field(max_length=48)
    from_status: str | None = Field(default=None, max_length=16)
    to_status: str | None = Field(default=None, max_length=16)
    # NULL when the system or a job did it (source says which).
    actor_user_id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    )
    source: str = Field(default="api", max_length=16)
    detail: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONB, nullable=False, server_default=text("'{}'"))
    )
    at: datetime = created_at_field()
