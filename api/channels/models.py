"""A cooperative's accounts on the platforms, and how their SKUs map to our variants."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Column, DateTime, ForeignKey, UniqueConstraint
from sqlmodel import Field, SQLModel

from api.cooperatives.models import cooperative_fk
from api.core.columns import created_at_field, id_field, updated_at_field
from api.core.encryption import EncryptedText


class Platform(StrEnum):
    """Where orders come from (values match integrations.platforms constants)."""

    TIKTOK_SHOP = "tiktok_shop"
    SHOPEE = "shopee"
    FACEBOOK = "facebook"
    DIRECT = "direct"


PLATFORM_VALUES = ", ".join(f"'{p.value}'" for p in Platform)


class ChannelConnection(SQLModel, table=True):
    """One shop of one cooperative on one platform; tokens are write-only secrets."""

    __tablename__ = "channel_connections"
    __table_args__ = (
        UniqueConstraint("platform", "shop_id"),
        CheckConstraint(f"platform IN ({PLATFORM_VALUES})", name="platform_known"),
        CheckConstraint("status IN ('active', 'disabled', 'reauth_required')", name="status_known"),
    )

    id: int | None = id_field()
    cooperative_id: int = Field(sa_column=cooperative_fk())
    platform: str = Field(max_length=32)
    shop_id: str = Field(max_length=64)
    shop_name: str = Field(default="", max_length=200)
    # TikTok: the shop_cipher most shop-scoped calls need.
    shop_cipher: str | None = Field(default=None, max_length=128)
    # Stored as Fernet ciphertext (api/core/encryption.py); plaintext only in memory.
    access_token: str | None = Field(default=None, sa_column=Column(EncryptedText, nullable=True))
    refresh_token: str | None = Field(default=None, sa_column=Column(EncryptedText, nullable=True))
    access_expires_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    refresh_expires_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    status: str = Field(default="active", max_length=32)
    # High-water mark of the reconciliation pull (platform update_time, unix seconds).
    last_reconciled_update_time: int | None = Field(default=None, sa_column=Column(BigInteger))
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class SkuMapping(SQLModel, table=True):
    """A platform SKU (id, or seller SKU) that stands for one of our variants."""

    __tablename__ = "sku_mappings"
    __table_args__ = (UniqueConstraint("channel_connection_id", "platform_sku_id"),)

    id: int | None = id_field()
    channel_connection_id: int = Field(
        sa_column=Column(
            BigInteger,
            ForeignKey("channel_connections.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    cooperative_id: int = Field(sa_column=cooperative_fk(index=False))
    platform_sku_id: str = Field(max_length=64)
    variant_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("variants.id", ondelete="CASCADE"), nullable=False)
    )
    created_at: datetime = created_at_field()


class UsedOAuthState(SQLModel, table=True):
    """The nonce of an authorisation `state` that has come back once; a second use is refused."""

    __tablename__ = "used_oauth_states"

    nonce: str = Field(primary_key=True, max_length=64)
    # Past this the state is refused anyway, so the row may be purged.
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    used_at: datetime = created_at_field()
