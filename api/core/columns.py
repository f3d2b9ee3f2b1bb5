"""Column helpers shared by the table models (aware UTC timestamps, big integer ids)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, Identity, func
from sqlmodel import Field

from api.core.db import utcnow


def id_field() -> Any:
    """A BIGINT identity primary key."""
    return Field(
        default=None,
        sa_column=Column(BigInteger, Identity(always=False), primary_key=True),
    )


def created_at_field() -> Any:
    """A timestamptz set by the database on insert."""
    return Field(
        default_factory=utcnow,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


def updated_at_field() -> Any:
    """A timestamptz refreshed on every ORM update."""
    return Field(
        default_factory=utcnow,
        sa_column=Column(
            DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=utcnow
        ),
    )


def aware(value: datetime) -> datetime:
    """Refuse naive datetimes at the edges: every time we store is UTC-aware."""
    if value.tzinfo is None:
        raise ValueError("datetime must carry a timezone")
    return value
