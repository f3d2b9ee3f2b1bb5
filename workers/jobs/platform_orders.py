"""Read orders from the platforms through the real clients (shared by ingestion and reconcile)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from api.channels.models import ChannelConnection
from api.core.config import Settings, get_settings
from integrations.platforms import PlatformAuthError, PlatformOrder
from integrations.platforms.shopee import ShopeeClient
from integrations.platforms.tiktok_shop import TikTokShopClient


def settings_of(ctx: dict[str, Any]) -> Settings:
    """The settings the worker was started with."""
    settings: Settings = ctx.get("settings") or get_settings()
    return settings


def _token(connection: ChannelConnection) -> str:
    if not connection.access_token:
        raise PlatformAuthError(
            "no_token", "connection has no access token", platform=connection.platform
        )
    return connection.access_token


def _tiktok(ctx: dict[str, Any]) -> TikTokShopClient:
    settings = settings_of(ctx)
    return TikTokShopClient(
        ctx["http"],
        settings.tiktok_shop_api_base,
        settings.tiktok_shop_app_key,
        settings.tiktok_shop_app_secret.get_secret_value(),
    )


def _shopee(ctx: dict[str, Any]) -> ShopeeClient:
    settings = settings_of(ctx)
    return ShopeeClient(
        ctx["http"],
        settings.shopee_api_base,
        settings.shopee_partner_id,
        settings.shopee_partner_key.get_secret_value(),
    )


async def fetch_orders(
    ctx: dict[str, Any], connection: ChannelConnection, order_ids: Sequence[str]
) -> list[PlatformOrder]:
    """The platform's full view of these orders (missing ones are simply absent)."""
    if connection.platform == "tiktok_shop":
        return await _tiktok(ctx).get_orders(
            connection.shop_cipher or "", _token(connection), order_ids, shop_id=connection.shop_id
        )
    if connection.platform == "shopee":
        return await _shopee(ctx).get_order_detail(
            int(connection.shop_id), _token(connection), order_ids
        )
    return []


async def updated_orders(
    ctx: dict[str, Any], connection: ChannelConnection, since: int, until: int, max_pages: int
) -> list[PlatformOrder]:
    """Orders the platform says changed in [since, until], for reconciliation."""
    found: list[PlatformOrder] = []
    cursor: str | None = None
    if connection.platform == "tiktok_shop":
        tiktok = _tiktok(ctx)
        for _ in range(max_pages):
            page, cursor = await tiktok.search_orders(
                connection.shop_cipher or "", _token(connection), since, cursor,
                shop_id=connection.shop_id,
            )  # fmt: skip
            found += page
            if not cursor:
                break
    elif connection.platform == "shopee":
        shopee = _shopee(ctx)
        sns: list[str] = []
        for _ in range(max_pages):
            page_sns, cursor = await shopee.get_order_list(
                int(connection.shop_id), _token(connection), since, until, cursor
            )
            sns += page_sns
            if not cursor:
                break
        found = await shopee.get_order_detail(int(connection.shop_id), _token(connection), sns)
    return found
