"""Request and response bodies for channel connections, SKU mappings and unmapped SKUs.

Tokens are write-only: inputs take them as `SecretStr` (masked in reprs and logs) and no output
model has a field that could carry one; reads say only whether a token is stored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
)

from api.channels.models import Platform
from api.core.limits import SHOP_ID_MAX, TOKEN_MAX
from api.core.schemas import Input, Output

# Ids are BIGINT: larger numbers cannot exist, so they are bad input (422), not a database error.
BIGINT_MAX = 2**63 - 1
SHOP_ID_PATTERN = rf"^[A-Za-z0-9][A-Za-z0-9._:\-]{{0,{SHOP_ID_MAX - 1}}}$"
# Platform SKU ids are opaque ("1729382256910270", Shopee's "item_id:model_id"): no spaces.
PLATFORM_SKU_PATTERN = r"^\S{1,64}$"


# Tokens go into HTTP headers and query strings: printable ASCII only (a `Ð` once made httpx
# fail every call for that shop). Checked here, in the type, so every input that takes a token
# (manual entry today, an OAuth exchange tomorrow) keeps the rule.
def _header_safe(token: SecretStr) -> SecretStr:
    if not all(0x21 <= ord(ch) <= 0x7E for ch in token.get_secret_value()):
        raise ValueError("a token is printable ASCII without spaces")
    return token


Token = Annotated[
    SecretStr, Field(min_length=1, max_length=TOKEN_MAX), AfterValidator(_header_safe)
]


class ConnectionStatus(StrEnum):
    """Whether we may call the platform for this shop (reauth_required is set by the token job)."""

    ACTIVE = "active"
    DISABLED = "disabled"
    REAUTH_REQUIRED = "reauth_required"


class TokenFields(Input):
    """Token fields shared by create and update; expiries must carry a timezone."""

    access_token: Token | None = None
    refresh_token: Token | None = None
    access_expires_at: AwareDatetime | None = None
    refresh_expires_at: AwareDatetime | None = None

    @field_validator("access_expires_at", "refresh_expires_at")
    @classmethod
    def _in_utc(cls, value: datetime | None) -> datetime | None:
        # Stored and shown in UTC, so a create answers with the same value a later read returns.
        return value.astimezone(UTC) if value is not None else None


class ChannelConnectionCreate(TokenFields):
    """A cooperative's shop on a platform."""

    cooperative_id: int = Field(ge=1, le=BIGINT_MAX)
    platform: Platform
    shop_id: str = Field(pattern=SHOP_ID_PATTERN)
    shop_name: str = Field(default="", max_length=200)
    shop_cipher: str | None = Field(default=None, min_length=1, max_length=128)

    @field_validator("shop_id")
    @classmethod
    def _shopee_shop_ids_are_numbers(cls, value: str, info: ValidationInfo) -> str:
        # The Shopee API takes shop_id as an integer; a non-numeric one could never be refreshed.
        if info.data.get("platform") is Platform.SHOPEE and not value.isdigit():
            raise ValueError("a Shopee shop_id is a number")
        return value


class ChannelConnectionUpdate(TokenFields):
    """Rotate tokens, rename, or switch a connection on or off."""

    shop_name: str | None = Field(default=None, max_length=200)
    shop_cipher: str | None = Field(default=None, min_length=1, max_length=128)
    status: Literal["active", "disabled"] | None = None


class ChannelConnectionRead(Output):
    """A connection as the API shows it: never a token, only whether one is stored."""

    id: int
    cooperative_id: int
    platform: Platform
    shop_id: str
    shop_name: str
    shop_cipher: str | None
    status: ConnectionStatus
    has_access_token: bool
    has_refresh_token: bool
    access_expires_at: datetime | None
    refresh_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime


class AuthorisingPlatform(StrEnum):
    """Platforms whose shops connect through the platform's own authorisation."""

    TIKTOK_SHOP = "tiktok_shop"
    SHOPEE = "shopee"


class AuthorisationLinkCreate(Input):
    """Which cooperative the shop will be connected to."""

    cooperative_id: int = Field(ge=1, le=BIGINT_MAX)


class AuthorisationLink(Output):
    """Where the shop's owner goes to authorise Phiên, and until when the link works."""

    authorization_url: str
    expires_at: datetime
    # Where the platform sends the owner back (TikTok Shop: register it for the app).
    redirect_url: str


class ConnectedShops(Output):
    """The connections an authorisation created or refreshed."""

    items: list[ChannelConnectionRead]


class SkuMappingCreate(Input):
    """Say which of our variants a platform SKU stands for."""

    platform_sku_id: str = Field(pattern=PLATFORM_SKU_PATTERN)
    variant_id: int = Field(ge=1, le=BIGINT_MAX)


class SkuMappingRead(Output):
    """One mapping, with the variant's own SKU for people reading the list."""

    id: int
    channel_connection_id: int
    platform_sku_id: str
    variant_id: int
    variant_sku: str
    created_at: datetime


class UnmappedSku(Output):
    """A platform SKU seen in orders that no variant accounts for yet."""

    platform_sku_id: str
    seller_sku: str
    name: str
    orders: int
    units: int
    last_seen_at: datetime
