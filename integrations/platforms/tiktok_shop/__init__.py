"""TikTok Shop connector: pure signing and parsing functions plus a thin HTTP client."""

from integrations.platforms.tiktok_shop.client import (
    API_BASE_URL,
    AUTH_BASE_URL,
    TikTokShopClient,
)
from integrations.platforms.tiktok_shop.parsing import (
    ORDER_STATUS_CHANGE,
    ORDER_STATUSES,
    normalize_order_status,
    parse_verified_webhook,
    parse_webhook,
)
from integrations.platforms.tiktok_shop.signing import api_sign, verify_webhook, webhook_signature

__all__ = [
    "API_BASE_URL",
    "AUTH_BASE_URL",
    "ORDER_STATUSES",
    "ORDER_STATUS_CHANGE",
    "TikTokShopClient",
    "api_sign",
    "normalize_order_status",
    "parse_verified_webhook",
    "parse_webhook",
    "verify_webhook",
    "webhook_signature",
]
