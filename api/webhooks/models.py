"""The inbox: every webhook received, stored raw, unique per source and event key."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Index, Integer, LargeBinary, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from api.core.columns import created_at_field, id_field


class InboundEvent(SQLModel, table=True):
    """A webhook as received: the audit trail and the replay source."""

    __tablename__ = "inbound_events"
    __table_args__ = (
        UniqueConstraint("source", "event_key"),
        # The sweeper's scan: unhandled rows by age, tiny because handled rows drop out.
        Index(
            "ix_inbound_events_unhandled",
            "received_at",
            postgresql_where=text("handled_at IS NULL"),
        ),
        # The retention purge's scan: rows that still hold a body, by age.
        Index(
            "ix_inbound_events_with_body",
            "received_at",
            postgresql_where=text("octet_length(raw_body) > 0"),
        ),
    )

    id: int | None = id_field()
    source: str = Field(max_length=32)
    event_key: str = Field(max_length=255)
    topic: str = Field(default="", max_length=64)
    shop_id: str = Field(default="", max_length=64)
    object_id: str | None = Field(default=None, max_length=128)
    raw_body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    headers: dict[str, str] = Field(
        default_factory=dict, sa_column=Column(JSONB, nullable=False, server_default="{}")
    )
    signature_valid: bool = True
    received_at: datetime = created_at_field()
    handled_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    last_error: str | None = Field(default=None, max_length=2000)
    # After a failed attempt, not before this time (backoff without holding a job asleep).
    retry_after: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    # What handling concluded: processed, ignored (topic we do not act on), unknown_shop, ...
    outcome: str | None = Field(default=None, max_length=64)
