"""Shopee connector: pure signing and parsing functions plus a thin HTTP client."""

from integrations.platforms.shopee.client import API_BASE_URL, ShopeeClient
from integrations.platforms.shopee.parsing import (
    ORDER_STATUSES,
    LostPushMessage,
    LostPushPage,
    parse_push,
    parse_verified_push,
)
from integrations.platforms.shopee.signing import (
    api_sign,
    callback_url_variants,
    push_signature,
    verify_push,
)

__all__ = [
    "API_BASE_URL",
    "ORDER_STATUSES",
    "LostPushMessage",
    "LostPushPage",
    "ShopeeClient",
    "api_sign",
    "callback_url_variants",
    "parse_push",
    "parse_verified_push",
    "push_signature",
    "verify_push",
]
