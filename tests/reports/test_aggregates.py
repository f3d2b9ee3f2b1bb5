"""The maintained aggregates always equal a recount from the raw order lines."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import httpx

from api.core.db import Database
from api.orders.models import OrderStatus
from integrations.carriers.base import ShipmentStatus
from tests.api.live_sessions.helpers import add_offer, connect_shop, move, schedule
from tests.factories import World
from tests.reports.rig import (
    VN,
    Placed,
    carrier_says,
    compact,
    item,
    place,
    platform_says,
    read_model,
    recomputed,
    vn,
)


async def _assert_agree(db: Database) -> None:
    for grain in (0, 1, 2):
        for period in ("day", "week", "month"):
            expected = await recomputed(db, grain, period)
            assert await read_model(db, grain, period) == expected, (grain, period)


async def test_random_mix_of_creates_cancels_deliveries_and_returns(
    db: Database, world: World, client: httpx.AsyncClient
) -> None:
    rng = random.Random(20261129)
    shops = [
        await connect_shop(db, world.coop_a, "tiktok_shop", "shop-a-tt"),
        await connect_shop(db, world.coop_a, "shopee", "shop-a-sp"),
        await connect_shop(db, world.coop_b, "tiktok_shop", "shop-b-tt"),
    ]
    items = {
        world.coop_a: [
            await item(db, world.coop_a, "Gạo Séng Cù", "rice", 5000, 180_000),
            await item(db, world.coop_a, "Mật ong", "honey", 500, 250_000),
            await item(db, world.coop_a, "Chè Shan", "tea", 200, 120_000),
        ],
        world.coop_b: [
            await item(db, world.coop_b, "Cà phê rang củi", "coffee", 1000, 200_000),
            await item(db, world.coop_b, "Gạo nếp", "rice", 2000, 90_000),
        ],
    }
    live = await schedule(client, world.users["coop_admin"], shops[0])
    for offered in items[world.coop_a][:2]:
        await add_offer(client, world.users["coop_admin"], live["id"], offered.variant_id)
    await move(client, world.users["coop_admin"], live["id"], "start")
    now = datetime.now(UTC)
    start = now.astimezone(VN).date() - timedelta(days=4)
    placed: list[Placed] = []
    for step in range(90):
        roll = rng.random()
        if roll < 0.45 or not placed:
            shop = rng.choice(shops)
            choice = rng.sample(items[shop.cooperative_id], rng.randint(1, 2))
            lines = [(it, rng.randint(1, 4)) for it in choice]
            # Orders placed now fall inside the running session's window; the others earlier.
            days_ago = rng.randrange(4)
            when = vn(start + timedelta(days=3 - days_ago), rng.randrange(24), rng.randrange(60))
            placed.append(await place(db, shop, now if days_ago == 0 else when, lines))
        else:
            target = rng.choice(placed)
            if roll < 0.6:
                await platform_says(db, target, OrderStatus.CANCELLED)
            elif roll < 0.72:
                await platform_says(db, target, OrderStatus.DELIVERED)
            elif roll < 0.84:
                await carrier_says(db, target.id, ShipmentStatus.DELIVERED)
            else:
                await carrier_says(db, target.id, ShipmentStatus.RETURNED)
        if step % 30 == 29:
            await _assert_agree(db)
            await compact(db)
    await _assert_agree(db)
    await compact(db)
    await _assert_agree(db)
    counted = await recomputed(db, 0)
    assert any(key[3] != 0 for key in counted), "some orders were attributed to the session"
