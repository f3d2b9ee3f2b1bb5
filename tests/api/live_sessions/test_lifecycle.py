"""Scheduling, the status machine, one live session per shop, offers and the pinned offer."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx

from api.core.db import Database
from tests.api.live_sessions.conftest import Shops
from tests.api.live_sessions.helpers import (
    Line,
    add_offer,
    move,
    new_variant,
    place_order,
    schedule,
)
from tests.factories import Member, World

BASE = "/api/v1/live-sessions"


async def test_schedule_copies_the_shop_and_defaults_the_host(
    client: httpx.AsyncClient, world: World, shops: Shops
) -> None:
    seller = world.users["seller"]
    live = await schedule(client, seller, shops.tiktok_a)
    assert live["status"] == "scheduled"
    assert (live["platform"], live["shop_id"]) == ("tiktok_shop", "7000000001")
    assert live["host_user_id"] == seller.user_id
    assert live["scheduled_start"] == "2026-12-01T05:00:00Z"
    assert live["actual_start"] is None
    read = await client.get(f"{BASE}/{live['id']}", headers=seller.headers)
    assert read.json() == live


async def test_schedule_refuses_bad_references(
    client: httpx.AsyncClient, world: World, shops: Shops
) -> None:
    seller, admin = world.users["seller"], world.users["admin"]
    body: dict[str, object] = {"cooperative_id": world.coop_a, "channel_connection_id": shops.tiktok_b.id,
            "title": "x", "scheduled_start": "2026-12-01T12:00:00+07:00"}  # fmt: skip
    cases: list[tuple[Member, dict[str, object], str]] = [
        (seller, {}, "channel_connection_id"),
        (seller, {"channel_connection_id": shops.tiktok_a.id,
                  "scheduled_start": "2026-12-01T12:00:00"}, "scheduled_start"),
        (seller, {"channel_connection_id": shops.tiktok_a.id,
                  "host_user_id": shops.seller_b.user_id}, "host_user_id"),
        (seller, {"channel_connection_id": shops.tiktok_a.id,
                  "host_user_id": world.users["logistics"].user_id}, "host_user_id"),
        (admin, {"channel_connection_id": shops.tiktok_a.id}, "host_user_id"),
    ]  # fmt: skip
    for member, change, field in cases:
        response = await client.post(BASE, json={**body, **change}, headers=member.headers)
        assert response.status_code == 422, (change, response.text)
        assert response.json()["detail"][0]["loc"][-1] == field
    hosted = await schedule(
        client, admin, shops.tiktok_a, host_user_id=world.users["coop_admin"].user_id
    )
    assert hosted["host_user_id"] == world.users["coop_admin"].user_id


async def test_lifecycle_and_illegal_moves(
    client: httpx.AsyncClient, world: World, shops: Shops
) -> None:
    seller = world.users["seller"]
    live = await schedule(client, seller, shops.tiktok_a)
    path = f"{BASE}/{live['id']}"
    assert (await client.post(f"{path}/end", headers=seller.headers)).status_code == 409
    patched = await client.patch(
        path, json={"title": "Trà Shan Tuyết", "scheduled_start": "2026-12-02T01:00:00Z"},
        headers=seller.headers,
    )  # fmt: skip
    assert patched.json()["title"] == "Trà Shan Tuyết"
    before = datetime.now(UTC)
    started = await move(client, seller, live["id"], "start")
    assert started["status"] == "live"
    assert before <= datetime.fromisoformat(started["actual_start"]) <= datetime.now(UTC)
    again = await client.post(f"{path}/start", headers=seller.headers)
    assert again.status_code == 409
    assert "it is live (allowed only from scheduled)" in again.json()["detail"]
    assert (
        await client.patch(path, json={"title": "x"}, headers=seller.headers)
    ).status_code == 409
    assert (await client.post(f"{path}/cancel", headers=seller.headers)).status_code == 409
    ended = await move(client, seller, live["id"], "end")
    assert ended["status"] == "ended"
    assert ended["actual_end"] >= ended["actual_start"]
    for action in ("start", "end", "cancel"):
        response = await client.post(f"{path}/{action}", headers=seller.headers)
        assert response.status_code == 409, action
        assert "it is ended" in response.json()["detail"]


async def test_cancel_only_before_going_live(
    client: httpx.AsyncClient, world: World, shops: Shops
) -> None:
    seller = world.users["seller"]
    live = await schedule(client, seller, shops.tiktok_a)
    cancelled = await move(client, seller, live["id"], "cancel")
    assert cancelled["status"] == "cancelled"
    for action in ("start", "end", "cancel"):
        response = await client.post(f"{BASE}/{live['id']}/{action}", headers=seller.headers)
        assert response.status_code == 409, action


async def test_one_live_session_per_shop(
    client: httpx.AsyncClient, world: World, shops: Shops
) -> None:
    seller = world.users["seller"]
    first = await schedule(client, seller, shops.tiktok_a)
    second = await schedule(client, seller, shops.tiktok_a)
    other_shop = await schedule(client, seller, shops.shopee_a)
    await move(client, seller, first["id"], "start")
    refused = await client.post(f"{BASE}/{second['id']}/start", headers=seller.headers)
    assert refused.status_code == 409
    assert f"live session {first['id']} of this shop is live" in refused.json()["detail"]
    await move(client, seller, other_shop["id"], "start")
    await move(client, seller, first["id"], "end")
    await move(client, seller, second["id"], "start")


async def test_concurrent_starts_of_one_shop_let_exactly_one_through(
    client: httpx.AsyncClient, world: World, shops: Shops
) -> None:
    seller = world.users["seller"]
    ids = [(await schedule(client, seller, shops.tiktok_a))["id"] for _ in range(6)]
    answers = await asyncio.gather(
        *(client.post(f"{BASE}/{i}/start", headers=seller.headers) for i in ids)
    )
    assert sorted(a.status_code for a in answers) == [200] + [409] * 5
    live = await client.get(f"{BASE}?status=live", headers=seller.headers)
    assert live.json()["total"] == 1


async def test_list_filters(client: httpx.AsyncClient, world: World, shops: Shops) -> None:
    seller, admin = world.users["seller"], world.users["admin"]
    a = await schedule(client, seller, shops.tiktok_a)
    await schedule(client, seller, shops.shopee_a)
    await schedule(client, shops.seller_b, shops.tiktok_b)
    await move(client, seller, a["id"], "start")

    async def total(query: str) -> int:
        response = await client.get(f"{BASE}{query}", headers=admin.headers)
        assert response.status_code == 200, response.text
        return int(response.json()["total"])

    assert await total("") == 3
    assert await total("?status=live") == 1
    assert await total("?platform=shopee") == 1
    assert await total(f"?cooperative_id={world.coop_b}") == 1
    assert await total(f"?cooperative_id={world.coop_a}&platform=tiktok_shop&status=live") == 1
    assert (await client.get(f"{BASE}?status=nonsense", headers=admin.headers)).status_code == 422


async def test_offers_follow_the_session_state(
    client: httpx.AsyncClient, db: Database, world: World, shops: Shops
) -> None:
    seller = world.users["seller"]
    variant_a = world.product_a.variants[0].id
    second_variant, sku = await new_variant(db, world.coop_a)
    live = await schedule(client, seller, shops.tiktok_a)
    offers = f"{BASE}/{live['id']}/offers"
    first = await add_offer(client, seller, live["id"], variant_a, quantity_cap=10)
    assert first["units_claimed"] == 0
    assert first["units_remaining"] == 10
    duplicate = await client.post(
        offers, json={"variant_id": variant_a, "live_price_vnd": 1}, headers=seller.headers
    )
    assert duplicate.status_code == 409
    foreign = await client.post(
        offers, json={"variant_id": world.product_b.variants[0].id, "live_price_vnd": 1},
        headers=seller.headers,
    )  # fmt: skip
    assert foreign.status_code == 422
    await move(client, seller, live["id"], "start")
    second = await add_offer(client, seller, live["id"], second_variant, per_buyer_limit=2)
    assert second["sku"] == sku
    listed = (await client.get(offers, headers=seller.headers)).json()
    assert [o["id"] for o in listed] == [first["id"], second["id"]]
    await move(client, seller, live["id"], "end")
    late_variant, _ = await new_variant(db, world.coop_a)
    late = await client.post(
        offers, json={"variant_id": late_variant, "live_price_vnd": 1}, headers=seller.headers
    )
    assert late.status_code == 409
    assert "only while the session is live or scheduled" in late.json()["detail"]


async def test_offer_cap_never_drops_below_claimed(
    client: httpx.AsyncClient, db: Database, world: World, shops: Shops
) -> None:
    seller = world.users["seller"]
    variant_a = world.product_a.variants[0].id
    live = await schedule(client, seller, shops.tiktok_a)
    offer = await add_offer(client, seller, live["id"], variant_a, quantity_cap=10)
    started = await move(client, seller, live["id"], "start")
    placed_at = datetime.fromisoformat(started["actual_start"]) + timedelta(seconds=1)
    await place_order(db, shops.tiktok_a, placed_at, [Line(variant_a, quantity=4)])
    path = f"{BASE}/{live['id']}/offers/{offer['id']}"
    too_low = await client.patch(path, json={"quantity_cap": 3}, headers=seller.headers)
    assert too_low.status_code == 422
    assert too_low.json()["detail"][0]["loc"] == ["body", "quantity_cap"]
    exact = await client.patch(
        path, json={"quantity_cap": 4, "live_price_vnd": 99_000}, headers=seller.headers
    )
    assert exact.status_code == 200
    assert (exact.json()["units_remaining"], exact.json()["live_price_vnd"]) == (0, 99_000)
    uncapped = await client.patch(path, json={"quantity_cap": None}, headers=seller.headers)
    assert uncapped.json()["quantity_cap"] is None
    null_price = await client.patch(path, json={"live_price_vnd": None}, headers=seller.headers)
    assert null_price.status_code == 422
    assert (await client.delete(path, headers=seller.headers)).status_code == 409


async def test_one_pinned_offer_at_a_time(
    client: httpx.AsyncClient, db: Database, world: World, shops: Shops
) -> None:
    seller = world.users["seller"]
    live = await schedule(client, seller, shops.tiktok_a)
    other = await schedule(client, seller, shops.shopee_a)
    first = await add_offer(client, seller, live["id"], world.product_a.variants[0].id)
    second = await add_offer(client, seller, live["id"], (await new_variant(db, world.coop_a))[0])
    foreign = await add_offer(client, seller, other["id"], world.product_a.variants[0].id)
    pin = f"{BASE}/{live['id']}/pin"

    async def pin_it(offer_id: int | None) -> httpx.Response:
        return await client.post(pin, json={"offer_id": offer_id}, headers=seller.headers)

    assert (await pin_it(first["id"])).status_code == 409
    await move(client, seller, live["id"], "start")
    assert (await pin_it(first["id"])).json()["pinned_offer_id"] == first["id"]
    assert (await pin_it(second["id"])).json()["pinned_offer_id"] == second["id"]
    assert (await pin_it(foreign["id"])).status_code == 422
    assert (await pin_it(None)).json()["pinned_offer_id"] is None
    assert (await pin_it(first["id"])).json()["pinned_offer_id"] == first["id"]
    offer_path = f"{BASE}/{live['id']}/offers/{first['id']}"
    assert (await client.delete(offer_path, headers=seller.headers)).status_code == 204
    read = await client.get(f"{BASE}/{live['id']}", headers=seller.headers)
    assert read.json()["pinned_offer_id"] is None
    await pin_it(second["id"])
    ended = await move(client, seller, live["id"], "end")
    assert ended["pinned_offer_id"] is None
    assert (await pin_it(second["id"])).status_code == 409
    assert (await client.post(pin, json={}, headers=seller.headers)).status_code == 422
