"""Live results: orders, units, kg, GMV, cancellations, flags, per offer."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx

from api.core.db import Database
from tests.api.live_sessions.conftest import Shops
from tests.api.live_sessions.helpers import (
    Line,
    add_offer,
    cancel_order,
    move,
    new_variant,
    place_order,
    schedule,
)
from tests.factories import World


async def test_stats_add_up_while_the_session_runs(
    client: httpx.AsyncClient, db: Database, world: World, shops: Shops
) -> None:
    seller = world.users["seller"]
    rice = world.product_a.variants[0].id
    honey, honey_sku = await new_variant(db, world.coop_a, net_weight_g=1237)
    live = await schedule(client, seller, shops.tiktok_a)
    stats_path = f"/api/v1/live-sessions/{live['id']}/stats"
    rice_offer = await add_offer(client, seller, live["id"], rice, quantity_cap=10,
                                 live_price_vnd=150_000)  # fmt: skip
    honey_offer = await add_offer(client, seller, live["id"], honey, live_price_vnd=80_000)
    empty = (await client.get(stats_path, headers=seller.headers)).json()
    assert (empty["status"], empty["orders"], empty["kg"], empty["flags"]) == (
        "scheduled",
        0,
        0,
        {},
    )
    started = await move(client, seller, live["id"], "start")
    await client.post(f"/api/v1/live-sessions/{live['id']}/pin",
                      json={"offer_id": honey_offer["id"]}, headers=seller.headers)  # fmt: skip
    at = datetime.fromisoformat(started["actual_start"]) + timedelta(seconds=1)

    def rice_line(quantity: int) -> Line:
        return Line(rice, quantity, 150_000, 5000)

    def honey_line(quantity: int) -> Line:
        return Line(honey, quantity, 80_000, 1237)

    await place_order(db, shops.tiktok_a, at, [rice_line(2), honey_line(1)], buyer_id="x")
    over_cap = await place_order(db, shops.tiktok_a, at, [rice_line(9)])
    assert over_cap.flags == ["over_offer_cap"]
    midway = (await client.get(stats_path, headers=seller.headers)).json()
    assert (midway["orders"], midway["units"], midway["gmv_vnd"]) == (2, 12, 1_730_000)
    await place_order(db, shops.tiktok_a, at, [honey_line(3)], buyer_id="y")
    cancelled = await place_order(db, shops.tiktok_a, at, [rice_line(1)])
    await cancel_order(db, cancelled.id)
    # An unmapped line: the order counts, and is flagged for a person.
    await place_order(db, shops.tiktok_a, at, [honey_line(1), Line(None, 1, 50_000, 0)])
    await place_order(db, shops.shopee_a, at, [rice_line(4)])  # another shop: not this session

    response = await client.get(stats_path, headers=seller.headers)
    assert response.status_code == 200
    stats = response.json()
    assert '"kg":61.185' in response.text
    results = {k: stats.pop(k) for k in ("title", "orders_per_minute", "peak_minute",
                                         "peak_minute_orders", "top_offers")}  # fmt: skip
    assert results["title"] == live["title"]
    minute = at.replace(second=0, microsecond=0)
    assert datetime.fromisoformat(results["peak_minute"]) == minute
    assert results["peak_minute_orders"] == 4
    assert results["orders_per_minute"] > 0
    assert [o["offer_id"] for o in results["top_offers"]] == [rice_offer["id"], honey_offer["id"]]
    assert stats == {
        "live_session_id": live["id"],
        "status": "live",
        "scheduled_start": live["scheduled_start"],
        "actual_start": started["actual_start"],
        "actual_end": None,
        "pinned_offer_id": honey_offer["id"],
        "orders": 4,
        "units": 17,
        "net_weight_g": 61_185,
        "kg": 61.185,
        "gmv_vnd": 2_100_000,
        "cancellations": 1,
        "flagged_orders": 2,
        "flags": {"over_offer_cap": 1, "unmapped_sku": 1},
        "offers": [
            {"offer_id": rice_offer["id"], "variant_id": rice, "sku": rice_offer["sku"],
             "live_price_vnd": 150_000, "quantity_cap": 10, "units_claimed": 2,
             "units_sold": 11, "gmv_vnd": 1_650_000},
            {"offer_id": honey_offer["id"], "variant_id": honey, "sku": honey_sku,
             "live_price_vnd": 80_000, "quantity_cap": None, "units_claimed": 5,
             "units_sold": 5, "gmv_vnd": 400_000},
        ],
    }  # fmt: skip
    ended = await move(client, seller, live["id"], "end")
    final = (await client.get(stats_path, headers=seller.headers)).json()
    assert (final["status"], final["actual_end"], final["pinned_offer_id"]) == (
        "ended",
        ended["actual_end"],
        None,
    )
    assert (final["orders"], final["gmv_vnd"]) == (4, 2_100_000)


async def test_stats_of_another_cooperative_are_hidden(
    client: httpx.AsyncClient, world: World, shops: Shops
) -> None:
    live = await schedule(client, shops.seller_b, shops.tiktok_b)
    path = f"/api/v1/live-sessions/{live['id']}/stats"
    assert (await client.get(path, headers=world.users["seller"].headers)).status_code == 404
    assert (
        await client.get(path, headers=world.users["program_manager"].headers)
    ).status_code == 200
