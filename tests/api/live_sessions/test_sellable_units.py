"""Offer caps count only sellable units: an order over a buyer's limit takes none of the cap.

Proves issue 9 item 8 on both intake paths: a batch of first-seen orders (a drained inbox,
`intake.take_in`) and one order at a time (`updates.apply_platform_order`, the reconcile and
single-order path). On 95bffa4 the over-limit order claimed its units first, so buyers within
their limit were refused as over the cap.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlmodel import col

from api.catalogue.models import Variant
from api.channels.models import ChannelConnection
from api.core.db import Database
from api.orders.models import Order, OrderLine
from api.orders.updates import apply_platform_order
from integrations.platforms import PlatformOrder
from tests.api.live_sessions.conftest import Shops
from tests.api.live_sessions.helpers import (
    Line,
    add_offer,
    move,
    platform_order,
    schedule,
    take_in_batch,
    units_claimed,
)
from tests.factories import World

SECOND = timedelta(seconds=1)


async def _live(
    client: httpx.AsyncClient, world: World, shops: Shops, **offer: Any
) -> tuple[datetime, int]:
    seller, variant = world.users["seller"], world.product_a.variants[0].id
    live = await schedule(client, seller, shops.tiktok_a)
    made = await add_offer(client, seller, live["id"], variant, **offer)
    started = await move(client, seller, live["id"], "start")
    return datetime.fromisoformat(started["actual_start"]), made["id"]


async def _apply_one(db: Database, shops: Shops, po: PlatformOrder, skus: dict[str, Any]) -> None:
    async with db.session() as session:
        connection = await session.get(ChannelConnection, shops.tiktok_a.id)
        assert connection is not None
        variants = {
            sku: await session.get(Variant, vid) if vid else None for sku, vid in skus.items()
        }
        await apply_platform_order(session, connection, po, source="test", variants=variants)
        await session.commit()


async def _flags_and_claims(db: Database, po: PlatformOrder) -> tuple[list[str], list[int | None]]:
    async with db.session() as session:
        order = (
            await session.execute(select(Order).where(col(Order.platform_order_id) == po.order_id))
        ).scalar_one()
        claims = await session.execute(
            select(col(OrderLine.live_offer_id)).where(col(OrderLine.order_id) == order.id)
        )
        return list(order.flags), list(claims.scalars())


async def test_batch_an_order_over_the_buyer_limit_takes_none_of_the_cap(
    client: httpx.AsyncClient, db: Database, world: World, shops: Shops
) -> None:
    start, offer_id = await _live(client, world, shops, quantity_cap=3, per_buyer_limit=2)
    variant = world.product_a.variants[0].id
    greedy = platform_order(shops.tiktok_a, start + SECOND, [Line(variant, 3)], buyer_id="b-1")
    second = platform_order(shops.tiktok_a, start + 2 * SECOND, [Line(variant, 2)], buyer_id="b-2")
    third = platform_order(shops.tiktok_a, start + 3 * SECOND, [Line(variant, 1)], buyer_id="b-3")
    await take_in_batch(db, shops.tiktok_a, [greedy, second, third])

    assert await _flags_and_claims(db, greedy[0]) == (["over_buyer_limit"], [None])
    assert await _flags_and_claims(db, second[0]) == ([], [offer_id])
    assert await _flags_and_claims(db, third[0]) == ([], [offer_id])
    assert await units_claimed(db, offer_id) == 3


async def test_one_at_a_time_an_order_over_the_buyer_limit_takes_none_of_the_cap(
    client: httpx.AsyncClient, db: Database, world: World, shops: Shops
) -> None:
    start, offer_id = await _live(client, world, shops, quantity_cap=3, per_buyer_limit=2)
    variant = world.product_a.variants[0].id
    greedy = platform_order(shops.tiktok_a, start + SECOND, [Line(variant, 3)], buyer_id="b-1")
    await _apply_one(db, shops, *greedy)
    assert await units_claimed(db, offer_id) == 0
    fair = platform_order(shops.tiktok_a, start + 2 * SECOND, [Line(variant, 2)], buyer_id="b-2")
    await _apply_one(db, shops, *fair)

    assert await _flags_and_claims(db, greedy[0]) == (["over_buyer_limit"], [None])
    assert await _flags_and_claims(db, fair[0]) == ([], [offer_id])
    assert await units_claimed(db, offer_id) == 2


async def test_a_buyer_counts_only_the_units_their_orders_hold(
    client: httpx.AsyncClient, db: Database, world: World, shops: Shops
) -> None:
    start, offer_id = await _live(client, world, shops, per_buyer_limit=2)
    variant = world.product_a.variants[0].id
    too_many = platform_order(shops.tiktok_a, start + SECOND, [Line(variant, 3)], buyer_id="b-1")
    await _apply_one(db, shops, *too_many)
    within = platform_order(shops.tiktok_a, start + 2 * SECOND, [Line(variant, 2)], buyer_id="b-1")
    await _apply_one(db, shops, *within)

    # The refused order holds nothing, so the buyer's next order within the limit is sellable.
    assert await _flags_and_claims(db, too_many[0]) == (["over_buyer_limit"], [None])
    assert await _flags_and_claims(db, within[0]) == ([], [offer_id])
    assert await units_claimed(db, offer_id) == 2
