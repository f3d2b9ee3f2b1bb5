"""Many first-seen orders in one intake (a drained inbox): first come, first served.

Within a batch the platform's create time decides who gets the last units of stock or of an
offer's cap, whatever order the webhooks arrived in; each order is still all or nothing.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select
from sqlmodel import col

from api.catalogue.models import MovementKind, StockMovement, Variant
from api.catalogue.stock import move_stock
from api.core.db import Database
from api.orders.models import Order, OrderLine
from tests.api.live_sessions.conftest import Shops
from tests.api.live_sessions.helpers import (
    Line,
    add_offer,
    move,
    new_variant,
    platform_order,
    schedule,
    take_in_batch,
    units_claimed,
)
from tests.factories import World

SECOND = timedelta(seconds=1)


async def _orders(db: Database, ids: list[int]) -> dict[int, Order]:
    async with db.session() as session:
        rows = await session.execute(select(Order).where(col(Order.id).in_(ids)))
        return {order.id or 0: order for order in rows.scalars()}


async def test_a_cap_goes_to_the_earliest_orders_of_the_batch(
    client: httpx.AsyncClient, db: Database, world: World, shops: Shops
) -> None:
    seller, variant = world.users["seller"], world.product_a.variants[0].id
    live = await schedule(client, seller, shops.tiktok_a)
    offer = await add_offer(client, seller, live["id"], variant, quantity_cap=10)
    start = datetime.fromisoformat(
        (await move(client, seller, live["id"], "start"))["actual_start"]
    )
    placed = [
        platform_order(shops.tiktok_a, start + SECOND * (n + 1), [Line(variant, 1)])
        for n in range(30)
    ]
    arrival = placed[:]
    random.Random(7).shuffle(arrival)
    intake = await take_in_batch(db, shops.tiktok_a, arrival)
    assert len(intake.created) == 30
    by_platform_id = {order.platform_order_id: order for order in intake.created}
    flags = [by_platform_id[po.order_id].flags for po, _ in placed]
    assert flags == [[]] * 10 + [["over_offer_cap"]] * 20
    assert all(order.live_session_id == live["id"] for order in intake.created)
    assert await units_claimed(db, offer["id"]) == 10


async def test_a_buyer_limit_counts_earlier_orders_of_the_same_batch(
    client: httpx.AsyncClient, db: Database, world: World, shops: Shops
) -> None:
    seller, variant = world.users["seller"], world.product_a.variants[0].id
    live = await schedule(client, seller, shops.tiktok_a)
    await add_offer(client, seller, live["id"], variant, per_buyer_limit=2)
    start = datetime.fromisoformat(
        (await move(client, seller, live["id"], "start"))["actual_start"]
    )
    batch = [
        platform_order(shops.tiktok_a, start + SECOND * (n + 1), [Line(variant, 1)], buyer_id=buyer)
        for n, buyer in enumerate(["b-1", "b-2", "b-1", "b-1", "b-2"])
    ]  # fmt: skip
    intake = await take_in_batch(db, shops.tiktok_a, batch)
    by_platform_id = {order.platform_order_id: order for order in intake.created}
    flags = [by_platform_id[po.order_id].flags for po, _ in batch]
    assert flags == [[], [], [], ["over_buyer_limit"], []]
    stored = await _orders(db, [order.id or 0 for order in intake.created])
    assert [stored[by_platform_id[po.order_id].id or 0].flags for po, _ in batch] == flags


async def test_stock_is_reserved_all_or_nothing_per_order_in_create_time_order(
    db: Database, world: World, shops: Shops
) -> None:
    scarce, _ = await new_variant(db, world.coop_a)
    plenty = world.product_a.variants[0].id
    async with db.session() as session:
        await move_stock(session, scarce, MovementKind.ADJUSTED, -995)  # 5 left
        await session.commit()
    at = datetime.fromisoformat("2026-11-21T10:00:00+00:00")
    first = platform_order(shops.tiktok_a, at, [Line(scarce, 3)])
    # Needs 3 of the 2 left: none of its lines is reserved, not even the plentiful one.
    second = platform_order(shops.tiktok_a, at + SECOND, [Line(plenty, 4), Line(scarce, 3)])
    third = platform_order(shops.tiktok_a, at + SECOND * 2, [Line(scarce, 2)])
    intake = await take_in_batch(db, shops.tiktok_a, [third, second, first])
    by_platform_id = {order.platform_order_id: order for order in intake.created}
    outcome = [by_platform_id[po.order_id] for po, _ in (first, second, third)]
    assert [o.fulfilment_status for o in outcome] == [
        "pending_shipment",
        "backordered",
        "pending_shipment",
    ]
    assert outcome[1].flags == ["backordered"]
    async with db.session() as session:
        levels = await session.get(Variant, scarce)
        assert levels is not None
        assert (levels.stock_on_hand, levels.stock_reserved) == (5, 5)
        ledger = (
            await session.execute(
                select(
                    col(StockMovement.order_id),
                    col(StockMovement.quantity),
                    col(StockMovement.reserved_after),
                )
                .where(
                    col(StockMovement.variant_id) == scarce, col(StockMovement.kind) == "reserved"
                )
                .order_by(col(StockMovement.id))
            )
        ).all()
        assert [tuple(row) for row in ledger] == [(outcome[0].id, 3, 3), (outcome[2].id, 2, 5)]
        held = await session.scalar(
            select(col(OrderLine.reserved_quantity)).where(
                col(OrderLine.order_id) == outcome[1].id, col(OrderLine.variant_id) == plenty
            )
        )
        assert held == 0


async def test_known_orders_are_handed_back_and_new_ones_created(
    db: Database, world: World, shops: Shops
) -> None:
    variant = world.product_a.variants[0].id
    at = datetime.fromisoformat("2026-11-21T10:00:00+00:00")
    seen = platform_order(shops.tiktok_a, at, [Line(variant, 1)])
    await take_in_batch(db, shops.tiktok_a, [seen])
    fresh = platform_order(shops.tiktok_a, at, [Line(variant, 2)])
    intake = await take_in_batch(db, shops.tiktok_a, [seen, fresh])
    assert [o.platform_order_id for o in intake.created] == [fresh[0].order_id]
    assert intake.known == [seen[0]]
