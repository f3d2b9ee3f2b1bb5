"""Social-commerce platform connectors (TikTok Shop, Shopee) and their platform-neutral types."""

from integrations.platforms.types import (
    SHOPEE,
    TIKTOK_SHOP,
    AuthorizedShop,
    PlatformAddress,
    PlatformAuthError,
    PlatformError,
    PlatformOrder,
    PlatformOrderLine,
    PlatformPayloadError,
    PlatformWebhook,
    SignatureError,
    TokenPair,
    mask_phone,
)

__all__ = [
    "SHOPEE",
    "TIKTOK_SHOP",
    "AuthorizedShop",
    "PlatformAddress",
    "PlatformAuthError",
    "PlatformError",
    "PlatformOrder",
    "PlatformOrderLine",
    "PlatformPayloadError",
    "PlatformWebhook",
    "SignatureError",
    "TokenPair",
    "mask_phone",
]
