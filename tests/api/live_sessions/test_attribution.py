"""Orders attributed to the session they were placed in; offer caps and buyer limits hold."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlmodel import col

from api.core.db import Database
from api.orders.models import Order, OrderLine, OrderStatus
from tests.api.live_sessions.conftest import Shops
from tests.api.live_sessions.helpers import (
    Line,
    add_offer,
    cancel_order,
    move,
    place_order,
    platform_order,
    schedule,
    take_in_order,
    units_claimed,
)
from tests.factories import World

SECOND = timedelta(seconds=1)


async def _live_with_offer(
    client: httpx.AsyncClient, world: World, shops: Shops, **offer: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    seller = world.users["seller"]
    live = await schedule(client, seller, shops.tiktok_a)
    made = await add_offer(client, seller, live["id"], world.product_a.variants[0].id, **offer)
    return await move(client, seller, live["id"], "start"), made


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def test_orders_inside_the_window_are_attributed(
    client: httpx.AsyncClient, db: Database, world: World, shops: Shops
) -> None:
    live, offer = await _live_with_offer(client, world, shops, quantity_cap=50)
    variant = world.product_a.variants[0].id
    start = _at(live["actual_start"])
    before = await place_order(db, shops.tiktok_a, start - SECOND, [Line(variant, 2)])
    during = await place_order(db, shops.tiktok_a, start + SECOND, [Line(variant, 3)])
    other_shop = await place_order(db, shops.shopee_a, start + SECOND, [Line(variant, 1)])
    not_offered = await place_order(db, shops.tiktok_a, start + SECOND, [Line(None, 1)])
    ended = await move(client, world.users["seller"], live["id"], "end")
    end = _at(ended["actual_end"])
    late_but_inside = await place_order(db, shops.tiktok_a, end, [Line(variant, 1)])
    after = await place_order(db, shops.tiktok_a, end + SECOND, [Line(variant, 1)])

    assert (during.live_session_id, during.offer_ids) == (live["id"], [offer["id"]])
    assert late_but_inside.live_session_id == live["id"]
    for outside in (before, other_shop, not_offered, after):
        assert (outside.live_session_id, outside.offer_ids) == (None, [None])
    assert await units_claimed(db, offer["id"]) == 4


async def test_mixed_order_claims_only_offered_lines(
    client: httpx.AsyncClient, db: Database, world: World, shops: Shops
) -> None:
    live, offer = await _live_with_offer(client, world, shops)
    variant = world.product_a.variants[0].id
    placed = await place_order(
        db, shops.tiktok_a, _at(live["actual_start"]) + SECOND,
        [Line(variant, 2), Line(None, 1), Line(variant, 1, unit_price_vnd=140_000)],
    )  # fmt: skip
    assert placed.live_session_id == live["id"]
    assert placed.offer_ids == [offer["id"], None, offer["id"]]
    assert await units_claimed(db, offer["id"]) == 3


async def test_cap_refuses_what_does_not_fit_and_flags_it(
    client: httpx.AsyncClient, db: Database, world: World, shops: Shops
) -> None:
    live, offer = await _live_with_offer(client, world, shops, quantity_cap=5)
    variant, at = world.product_a.variants[0].id, _at(live["actual_start"]) + SECOND
    first = await place_order(db, shops.tiktok_a, at, [Line(variant, 3)])
    second = await place_order(db, shops.tiktok_a, at, [Line(variant, 3)])
    third = await place_order(db, shops.tiktok_a, at, [Line(variant, 2)])
    assert (first.flags, first.offer_ids) == ([], [offer["id"]])
    assert second.flags == ["over_offer_cap"]
    assert (second.live_session_id, second.offer_ids) == (live["id"], [None])
    assert third.offer_ids == [offer["id"]]
    assert await units_claimed(db, offer["id"]) == 5
    async with db.session() as session:
        order = await session.get(Order, second.id)
        assert order is not None
        assert "cap of 5" in order.flag_reasons["over_offer_cap"]


async def test_cap_holds_under_concurrent_orders(
    client: httpx.AsyncClient, db: Database, world: World, shops: Shops, database_url: str
) -> None:
    live, offer = await _live_with_offer(client, world, shops, quantity_cap=100)
    variant, at = world.product_a.variants[0].id, _at(live["actual_start"]) + SECOND
    # A pool of its own: 300 transactions contend for the offer row over 20 connections.
    crowd = Database(database_url, pool_size=20, max_overflow=0)
    try:
        placed = await asyncio.gather(
            *(place_order(crowd, shops.tiktok_a, at, [Line(variant, 1)]) for _ in range(300))
        )
    finally:
        await crowd.dispose()
    claimed = [p for p in placed if p.offer_ids == [offer["id"]]]
    refused = [p for p in placed if p.flags == ["over_offer_cap"]]
    assert (len(claimed), len(refused)) == (100, 200)
    assert all(p.live_session_id == live["id"] for p in placed)
    assert await units_claimed(db, offer["id"]) == 100
    async with db.session() as session:
        lines = await session.scalar(
            select(func.count()).where(col(OrderLine.live_offer_id) == offer["id"])
        )
    assert lines == 100


async def test_per_buyer_limit_is_flagged(
    client: httpx.AsyncClient, db: Database, world: World, shops: Shops
) -> None:
    live, offer = await _live_with_offer(client, world, shops, per_buyer_limit=2)
    variant, at = world.product_a.variants[0].id, _at(live["actual_start"]) + SECOND
    first = await place_order(db, shops.tiktok_a, at, [Line(variant, 1)], buyer_id="buyer-1")
    second = await place_order(db, shops.tiktok_a, at, [Line(variant, 1)], buyer_id="buyer-1")
    third = await place_order(db, shops.tiktok_a, at, [Line(variant, 1)], buyer_id="buyer-1")
    other_buyer = await place_order(db, shops.tiktok_a, at, [Line(variant, 2)], buyer_id="b-2")
    anonymous = [await place_order(db, shops.tiktok_a, at, [Line(variant, 2)]) for _ in range(2)]
    at_once = await place_order(db, shops.tiktok_a, at, [Line(variant, 3)], buyer_id="b-3")
    assert first.flags == second.flags == other_buyer.flags == []
    assert third.flags == ["over_buyer_limit"]
    assert at_once.flags == ["over_buyer_limit"]
    assert [a.flags for a in anonymous] == [[], []]
    # The limit is a flag for a person to look at; until then the order holds none of the cap.
    assert third.offer_ids == [None]
    assert await units_claimed(db, offer["id"]) == 1 + 1 + 2 + 2 + 2


async def test_cancelled_orders_do_not_count_towards_the_buyer_limit(
    client: httpx.AsyncClient, db: Database, world: World, shops: Shops
) -> None:
    live, _ = await _live_with_offer(client, world, shops, per_buyer_limit=1)
    variant, at = world.product_a.variants[0].id, _at(live["actual_start"]) + SECOND
    first = await place_order(db, shops.tiktok_a, at, [Line(variant, 1)], buyer_id="buyer-1")
    await cancel_order(db, first.id)
    again = await place_order(db, shops.tiktok_a, at, [Line(variant, 1)], buyer_id="buyer-1")
    assert again.flags == []


async def test_cancellation_gives_back_exactly_what_was_claimed(
    client: httpx.AsyncClient, db: Database, world: World, shops: Shops
) -> None:
    live, offer = await _live_with_offer(client, world, shops, quantity_cap=5)
    variant, at = world.product_a.variants[0].id, _at(live["actual_start"]) + SECOND
    claimed = await place_order(db, shops.tiktok_a, at, [Line(variant, 4)])
    over = await place_order(db, shops.tiktok_a, at, [Line(variant, 2)])
    assert await units_claimed(db, offer["id"]) == 4
    await cancel_order(db, over.id)
    assert await units_claimed(db, offer["id"]) == 4
    await cancel_order(db, claimed.id)
    assert await units_claimed(db, offer["id"]) == 0
    await cancel_order(db, claimed.id)  # the job ran twice
    assert await units_claimed(db, offer["id"]) == 0
    refill = await place_order(db, shops.tiktok_a, at, [Line(variant, 5)])
    assert (refill.flags, refill.offer_ids) == ([], [offer["id"]])
    async with db.session() as session:
        order = await session.get(Order, claimed.id)
        assert order is not None
        assert order.live_session_id == live["id"]  # still the session's, as a cancellation


async def test_attribution_is_not_repeated_for_a_known_order(
    client: httpx.AsyncClient, db: Database, world: World, shops: Shops
) -> None:
    live, offer = await _live_with_offer(client, world, shops)
    variant, at = world.product_a.variants[0].id, _at(live["actual_start"]) + SECOND
    po, variant_ids = platform_order(shops.tiktok_a, at, [Line(variant, 2)])
    first = await take_in_order(db, shops.tiktok_a, po, variant_ids)
    again = await take_in_order(db, shops.tiktok_a, po, variant_ids)  # the job ran twice
    assert (len(first.created), len(again.created), again.known) == (1, 0, [po])
    assert await units_claimed(db, offer["id"]) == 2


async def test_an_order_first_seen_cancelled_claims_nothing(
    client: httpx.AsyncClient, db: Database, world: World, shops: Shops
) -> None:
    live, offer = await _live_with_offer(client, world, shops)
    variant, at = world.product_a.variants[0].id, _at(live["actual_start"]) + SECOND
    placed = await place_order(
        db, shops.tiktok_a, at, [Line(variant, 2)], status=OrderStatus.CANCELLED
    )
    assert (placed.live_session_id, placed.offer_ids) == (live["id"], [None])
    assert await units_claimed(db, offer["id"]) == 0
