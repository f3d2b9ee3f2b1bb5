"""Platform-neutral values that the TikTok Shop and Shopee connectors hand to the rest of Phiên."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

TIKTOK_SHOP = "tiktok_shop"
SHOPEE = "shopee"


@dataclass(frozen=True, slots=True)
class PlatformWebhook:
    """A verified push, reduced to what the inbox and the order job need."""

    platform: str
    event_key: str  # unique per platform: the inbox deduplicates on (platform, event_key)
    topic: str
    shop_id: str  # "" for partner-level pushes that carry no shop
    order_id: str | None
    status: str | None
    update_time: int | None


@dataclass(frozen=True, slots=True)
class PlatformAddress:
    """Delivery address, 2025 two-tier form (province → commune/ward), legacy district kept."""

    full_address: str
    province: str
    commune: str
    street: str
    district: str | None = None
    postal_code: str | None = None


@dataclass(frozen=True, slots=True)
class PlatformOrderLine:
    """One SKU of an order with its unit count and unit price in VND."""

    platform_sku_id: str
    seller_sku: str
    product_name: str
    sku_name: str
    quantity: int
    unit_price: int


@dataclass(frozen=True, slots=True)
class PlatformOrder:
    """An order as the platform's API reports it, amounts in whole đồng."""

    platform: str
    shop_id: str
    order_id: str
    status: str  # the platform's raw status string (Order API vocabulary)
    update_time: int
    create_time: int
    is_cod: bool
    currency: str
    total_amount: int
    shipping_fee: int
    buyer_name: str
    # repr=False: an order printed into a log must not leak the buyer's full phone number.
    buyer_phone: str = field(repr=False)
    address: PlatformAddress = field(repr=False)
    lines: tuple[PlatformOrderLine, ...]
    # The platform's buyer account id (TikTok user_id, Shopee buyer_user_id): per-buyer limits.
    buyer_id: str = ""

    @property
    def masked_phone(self) -> str:
        """The buyer phone with all but the last three digits hidden, safe for logs."""
        return mask_phone(self.buyer_phone)


@dataclass(frozen=True, slots=True)
class TokenPair:
    """Result of a token refresh; the caller persists both tokens atomically."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    access_expires_at: datetime
    refresh_expires_at: datetime


@dataclass(frozen=True, slots=True)
class AuthorizedShop:
    """A shop the platform says a seller's authorisation covers (not what a person typed)."""

    platform: str
    shop_id: str
    name: str
    # TikTok: the shop_cipher that shop-scoped calls take; None on Shopee.
    cipher: str | None = None
    region: str = ""


def mask_phone(phone: str) -> str:
    """Hide all but the last three characters of a phone number."""
    if len(phone) <= 3:
        return "*" * len(phone)
    return "*" * (len(phone) - 3) + phone[-3:]


class PlatformError(Exception):
    """A platform call failed; `transient` tells the job whether a retry can help."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        transient: bool = False,
        platform: str = "",
        request_id: str | None = None,
    ) -> None:
        super().__init__(f"{platform or 'platform'} error {code}: {message}")
        self.code = code
        self.message = message
        self.transient = transient
        self.platform = platform
        self.request_id = request_id


class PlatformAuthError(PlatformError):
    """Credentials or tokens were refused: refresh the token or re-authorise, do not retry as is."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        platform: str = "",
        request_id: str | None = None,
    ) -> None:
        super().__init__(code, message, transient=False, platform=platform, request_id=request_id)


class PlatformPayloadError(PlatformError):
    """The platform sent data we cannot interpret (malformed JSON, NaN or negative amounts)."""

    def __init__(self, message: str, *, platform: str = "") -> None:
        super().__init__("invalid_payload", message, transient=False, platform=platform)


class SignatureError(PlatformError):
    """A webhook's signature did not verify; answer 401 and keep nothing but the audit row."""

    def __init__(self, message: str = "webhook signature mismatch", *, platform: str = "") -> None:
        super().__init__("invalid_signature", message, transient=False, platform=platform)
