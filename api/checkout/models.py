"""Direct sales paid through Stripe Checkout: our order <-> the provider's session, and refunds."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from api.cooperatives.models import cooperative_fk
from api.core.columns import created_at_field, id_field, updated_at_field
from api.orders.models import one_of


class CheckoutStatus(StrEnum):
    """Where the provider's session stands, as far as we know."""

    CREATING = "creating"  # our order and reservation exist; the session is being created
    OPEN = "open"
    COMPLETE = "complete"
    EXPIRED = "expired"
    FAILED = "failed"  # the provider refused or could not be reached: order cancelled


class RefundStatus(StrEnum):
    """A refund of a paid direct order: asked for (by a job), then as the provider reports."""

    NONE = "none"
    REQUESTED = "requested"
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


def _aware(nullable: bool = True) -> Column[datetime]:
    return Column(DateTime(timezone=True), nullable=nullable)


class Checkout(SQLModel, table=True):
    """One direct order's Stripe Checkout Session, its reservation expiry and its refund."""

    __tablename__ = "checkout_sessions"
    __table_args__ = (
        UniqueConstraint("order_id"),
        UniqueConstraint("stripe_session_id"),
        UniqueConstraint("payment_intent"),
        UniqueConstraint("refund_id"),
        one_of("status", CheckoutStatus),
        one_of("refund_status", RefundStatus),
        # The expiry sweeper's scan: reservations still held for an unpaid session, by expiry.
        Index(
            "ix_checkout_sessions_held",
            "reserved_until",
            postgresql_where=text("released_at IS NULL AND paid_at IS NULL"),
        ),
    )

    id: int | None = id_field()
    order_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False)
    )
    cooperative_id: int = Field(sa_column=cooperative_fk(index=False))
    stripe_session_id: str | None = Field(default=None, max_length=255)
    url: str | None = Field(default=None, max_length=2000)
    status: str = Field(default=CheckoutStatus.CREATING.value, max_length=16)
    payment_intent: str | None = Field(default=None, max_length=255)
    amount_vnd: int = Field(sa_column=Column(BigInteger, nullable=False))
    # The stock is held until then (Stripe's session expires at the same moment).
    reserved_until: datetime = Field(sa_column=_aware(nullable=False))
    released_at: datetime | None = Field(default=None, sa_column=_aware())
    paid_at: datetime | None = Field(default=None, sa_column=_aware())
    refund_status: str = Field(default=RefundStatus.NONE.value, max_length=16)
    refund_id: str | None = Field(default=None, max_length=255)
    refund_reason: str | None = Field(default=None, max_length=500)
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()
