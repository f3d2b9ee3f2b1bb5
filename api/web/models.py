"""A signed-in browser: a cookie session exchanged for an API token at sign-in."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, DateTime, ForeignKey
from sqlmodel import Field, SQLModel

from api.core.columns import created_at_field, id_field


class WebSession(SQLModel, table=True):
    """One browser's session; only the SHA-256 of the cookie secret is stored."""

    __tablename__ = "web_sessions"

    id: int | None = id_field()
    # Revoking or deleting the token ends every session signed in with it.
    token_id: int = Field(
        sa_column=Column(
            BigInteger, ForeignKey("api_tokens.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    secret_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = created_at_field()
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
