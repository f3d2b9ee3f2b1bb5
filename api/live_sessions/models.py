"""Live sessions, their offers, and the pinned offer."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from api.cooperatives.models import cooperative_fk
from api.core.columns import created_at_field, id_field, updated_at_field


class LiveStatus(StrEnum):
    """scheduled -> live -> ended, or cancelled before it goes live."""

    SCHEDULED = "scheduled"
    LIVE = "live"
    ENDED = "ended"
    CANCELLED = "cancelled"


class LiveSession(SQLModel, table=True):
    """One livestream of a cooperative on one platform shop."""

    __tablename__ = "live_sessions"
    __table_args__ = (
        CheckConstraint(
            "status IN ('scheduled', 'live', 'ended', 'cancelled')", name="status_known"
        ),
        Index("ix_live_sessions_shop_window", "platform", "shop_id", "actual_start"),
    )

    id: int | None = id_field()
    cooperative_id: int = Field(sa_column=cooperative_fk())
    host_user_id: int | None = Field(
        default=None, sa_column=Column(BigInteger, ForeignKey("users.id", ondelete="SET NULL"))
    )
    channel_connection_id: int = Field(
        sa_column=Column(
            BigInteger, ForeignKey("channel_connections.id", ondelete="RESTRICT"), nullable=False
        )
    )
    platform: str = Field(max_length=32)
    shop_id: str = Field(max_length=64)
    title: str = Field(max_length=200)
    scheduled_start: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    actual_start: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    actual_end: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    status: str = Field(default=LiveStatus.SCHEDULED.value, max_length=16)
    pinned_offer_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class LiveOffer(SQLModel, table=True):
    """A variant offered during a session at a live price, with a cap and a per-buyer limit."""

    __tablename__ = "live_offers"
    __table_args__ = (
        UniqueConstraint("live_session_id", "variant_id"),
        CheckConstraint("live_price_vnd >= 0", name="price_not_negative"),
        CheckConstraint("quantity_cap IS NULL OR quantity_cap > 0", name="cap_positive"),
        CheckConstraint(
            "quantity_cap IS NULL OR units_claimed <= quantity_cap", name="claimed_within_cap"
        ),
        CheckConstraint("units_claimed >= 0", name="claimed_not_negative"),
    )

    id: int | None = id_field()
    live_session_id: int = Field(
        sa_column=Column(
            BigInteger, ForeignKey("live_sessions.id", ondelete="CASCADE"), nullable=False
        )
    )
    variant_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("variants.id", ondelete="RESTRICT"), nullable=False)
    )
    live_price_vnd: int = Field(sa_column=Column(BigInteger, nullable=False))
    quantity_cap: int | None = Field(default=None, sa_column=Column(Integer))
    per_buyer_limit: int | None = Field(default=None, sa_column=Column(Integer))
    # Units taken by attributed orders; bumped by one conditional UPDATE so the cap holds.
    units_claimed: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default="0")
    )
    created_at: datetime = created_at_field()
