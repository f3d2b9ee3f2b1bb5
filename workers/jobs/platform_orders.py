"""Read orders from the platforms through the real clients and apply them (shared by the
inbox drain and reconciliation)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from api.catalogue.models import Variant
from api.channels.models import ChannelConnection
from api.core.clients import shopee_client, tiktok_shop_client
from api.orders.intake import take_in
from api.orders.updates import apply_platform_order
from integrations.platforms import PlatformAuthError, PlatformOrder
from integrations.platforms.shopee import ShopeeClient
from integrations.platforms.tiktok_shop import TikTokShopClient
from workers.context import settings_of

log = logging.getLogger(__name__)

Outcome = Literal["processed", "failed"]


def _token(connection: ChannelConnection) -> str:
    if not connection.access_token:
        raise PlatformAuthError(
            "no_token", "connection has no access token", platform=connection.platform
        )
    return connection.access_token


def _tiktok(ctx: dict[str, Any]) -> TikTokShopClient:
    return tiktok_shop_client(settings_of(ctx), ctx["http"])


def _shopee(ctx: dict[str, Any]) -> ShopeeClient:
    return shopee_client(settings_of(ctx), ctx["http"])


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


@dataclass(frozen=True)
class ChangedPage:
    """One page of orders the platform says changed, and where the next page starts."""

    orders: list[PlatformOrder]
    cursor: str | None  # None: this was the last page


async def changed_orders_page(
    ctx: dict[str, Any], connection: ChannelConnection, since: int, until: int, cursor: str | None
) -> ChangedPage:
    """One page of the orders changed in [since, until] (reconciliation pages through them)."""
    if connection.platform == "tiktok_shop":
        orders, cursor = await _tiktok(ctx).search_orders(
            connection.shop_cipher or "", _token(connection), since, cursor,
            shop_id=connection.shop_id,
        )  # fmt: skip
        return ChangedPage(orders, cursor)
    if connection.platform == "shopee":
        shopee = _shopee(ctx)
        shop_id, token = int(connection.shop_id), _token(connection)
        sns, cursor = await shopee.get_order_list(shop_id, token, since, until, cursor)
        orders = await shopee.get_order_detail(shop_id, token, sns) if sns else []
        return ChangedPage(orders, cursor)
    return ChangedPage([], None)


async def apply_orders(
    ctx: dict[str, Any],
    connection: ChannelConnection,
    orders: Sequence[PlatformOrder],
    variants: Mapping[str, Variant | None],
    *,
    source: str,
) -> dict[str, Outcome]:
    """Apply the platform's view of orders of one shop; platform order id -> outcome.

    First-seen orders are created together in one short transaction (`intake.take_in`). Known
    orders are then moved forward one per transaction, so their row locks (order, then stock)
    are never held beside the batch's. If the batch fails for any reason, every order falls
    back to a transaction of its own: one bad order cannot hold back the other 49.
    """
    outcomes: dict[str, Outcome] = {}
    one_by_one = list(orders)
    try:
        async with ctx["db"].session() as session:
            intake = await take_in(session, connection, orders, variants, source=source)
            await session.commit()
    except Exception:
        log.exception(
            "batch intake failed; applying its orders one by one",
            extra={
                "source": connection.platform,
                "shop": connection.shop_id,
                "orders": len(orders),
            },
        )
    else:
        outcomes.update(dict.fromkeys((o.platform_order_id for o in intake.created), "processed"))
        one_by_one = intake.known
    for po in one_by_one:
        outcomes[po.order_id] = await _apply_one(ctx, connection, po, variants, source)
    return outcomes


async def _apply_one(
    ctx: dict[str, Any],
    connection: ChannelConnection,
    po: PlatformOrder,
    variants: Mapping[str, Variant | None],
    source: str,
) -> Outcome:
    try:
        async with ctx["db"].session() as session:
            await apply_platform_order(session, connection, po, source=source, variants=variants)
            await session.commit()
    except Exception:
        log.exception("order not applied", extra={"source": po.platform, "order": po.order_id})
        return "failed"
    return "processed"
