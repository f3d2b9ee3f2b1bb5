"""The inbox: every webhook received, stored raw, unique per source and event key."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Index, Integer, LargeBinary, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from api.core.columns import created_at_field, id_field
from api.core.limits import (
    ERROR_MAX,
    EVENT_KEY_MAX,
    OBJECT_ID_MAX,
    SHOP_ID_MAX,
    SOURCE_MAX,
    TOPIC_MAX,
)


class InboundEvent(SQLModel, table=True):
    """A webhook as received: the audit trail and the replay source."""

    __tablename__ = "inbound_events"
    __table_args__ = (
        UniqueConstraint("source", "event_key"),
        # The sweeper's scan: unhandled rows by age, tiny because handled rows drop out.
        Index(
            "ix_inbound_events_unhandled",
            "received_at",
            postgresql_where=text("handled_at IS NULL AND parked_at IS NULL"),
        ),
        # The retention purge's scan: rows that still hold a body, by age.
        Index(
            "ix_inbound_events_with_body",
            "received_at",
            postgresql_where=text("octet_length(raw_body) > 0"),
        ),
        # The admins' list of parked rows, newest first (keyset on id).
        Index("ix_inbound_events_parked", "id", postgresql_where=text("parked_at IS NOT NULL")),
    )

    id: int | None = id_field()
    source: str = Field(max_length=SOURCE_MAX)
    event_key: str = Field(max_length=EVENT_KEY_MAX)
    topic: str = Field(default="", max_length=TOPIC_MAX)
    shop_id: str = Field(default="", max_length=SHOP_ID_MAX)
    object_id: str | None = Field(default=None, max_length=OBJECT_ID_MAX)
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
    last_error: str | None = Field(default=None, max_length=ERROR_MAX)
    # After a failed attempt, not before this time (backoff without holding a job asleep).
    retry_after: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    # What handling concluded: processed, ignored (topic we do not act on), unknown_shop, ...
    outcome: str | None = Field(default=None, max_length=64)
    # Set when handling gave up (the same failure again and again, or input no later code could
    # store): the row waits for a person, who may replay it (`/api/v1/inbound-events`).
    parked_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
