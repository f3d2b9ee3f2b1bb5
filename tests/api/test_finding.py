"""Operators find things: orders by platform order id and buyer phone, shipments by order and
waybill; large lists page by cursor, stay stable while rows arrive, refuse deep offsets."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import insert

from api.core.config import Settings
from api.core.db import Database
from api.orders.models import Order
from tests.factories import World
from tests.ingestion.rig import connect_tiktok_shop, drain, line, place_order, run_worker
from tests.shipments.rig import outbox_row, set_shipment, stored_order


async def _ids(client: httpx.AsyncClient, path: str, headers: dict[str, str], **params: Any) -> Any:
    response = await client.get(path, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def test_orders_by_platform_order_id_and_buyer_phone(
    settings: Settings, world: World, db: Database, client: httpx.AsyncClient, tiktok_sim: str
) -> None:
    await connect_tiktok_shop(db, world.coop_a)
    sku = world.product_a.variants[0].sku
    buyer = {"name": "Hờ Thị Dua", "phone": "0987654321"}
    placed = await place_order(tiktok_sim, [line(sku)], status="AWAITING_SHIPMENT", buyer=buyer)
    await place_order(tiktok_sim, [line(sku)], status="AWAITING_SHIPMENT")
    await drain(tiktok_sim)
    await run_worker(settings)
    admin = world.users["admin"].headers
    assert len(await _ids(client, "/api/v1/orders", admin)) == 2
    by_id = await _ids(client, "/api/v1/orders", admin, platform_order_id=placed["order_id"])
    assert len(by_id) == 1
    for form in ("0987654321", "+84987654321", "+84 987 654 321", "0987.654.321"):
        assert await _ids(client, "/api/v1/orders", admin, buyer_phone=form) == by_id, form
    assert await _ids(client, "/api/v1/orders", admin, buyer_phone="0987654322") == []
    coop = world.users["coop_admin"].headers
    assert await _ids(client, "/api/v1/orders", coop, buyer_phone="+84987654321") == by_id
    pm = world.users["program_manager"].headers
    refused = await client.get("/api/v1/orders", params={"buyer_phone": "0987654321"}, headers=pm)
    assert refused.status_code == 403
    bad = await client.get("/api/v1/orders", params={"buyer_phone": "12345678901"}, headers=admin)
    assert bad.status_code == 422


async def test_shipments_by_order_and_waybill(
    world: World, db: Database, client: httpx.AsyncClient
) -> None:
    first_order = await stored_order(db, world, world.coop_a)
    first = await outbox_row(db, first_order)
    second = await outbox_row(db, await stored_order(db, world, world.coop_a))
    await set_shipment(db, second, carrier="ghn", status="handed_off", waybill="GS0000042")
    admin = world.users["admin"].headers
    assert await _ids(client, "/api/v1/shipments", admin, order_id=first_order) == [first]
    assert await _ids(client, "/api/v1/shipments", admin, waybill="GS0000042") == [second]
    assert await _ids(client, "/api/v1/shipments", admin, waybill="GS0000043") == []


async def test_cursor_pages_stay_stable_while_orders_arrive(
    world: World, db: Database, client: httpx.AsyncClient
) -> None:
    made = [await stored_order(db, world, world.coop_a) for _ in range(5)]
    admin = world.users["admin"].headers
    first = (await client.get("/api/v1/orders", params={"limit": 2}, headers=admin)).json()
    assert [o["id"] for o in first["items"]] == [made[4], made[3]]
    assert first["total"] == 5
    assert first["total_capped"] is False
    # Two orders arrive between the pages: offset paging would show made[3] again.
    for _ in range(2):
        await stored_order(db, world, world.coop_a)
    seen = [o["id"] for o in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = await client.get(
            "/api/v1/orders", params={"limit": 2, "cursor": cursor}, headers=admin
        )
        assert page.status_code == 200
        seen += [o["id"] for o in page.json()["items"]]
        cursor = page.json()["next_cursor"]
    assert seen == list(reversed(made))
    shifted = await _ids(client, "/api/v1/orders", admin, limit=2, offset=2)
    assert shifted == [made[4], made[3]]


async def test_deep_offsets_and_foreign_cursors_are_refused(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = world.users["admin"].headers
    for path in ("/api/v1/orders", "/api/v1/shipments", "/api/v1/products"):
        assert (await client.get(path, params={"offset": 10_000}, headers=admin)).status_code == 200
        deep = await client.get(path, params={"offset": 10_001}, headers=admin)
        assert deep.status_code == 422, path
    for cursor in ("bm90LWEtY3Vyc29y", "!!", "azE6MA"):
        bad = await client.get("/api/v1/orders", params={"cursor": cursor}, headers=admin)
        assert bad.status_code == 422
        assert bad.json()["detail"][0]["loc"] == ["query", "cursor"]


async def test_counts_are_capped(world: World, db: Database, client: httpx.AsyncClient) -> None:
    rows = [
        {"cooperative_id": world.coop_a, "platform": "tiktok_shop", "shop_id": "bulk",
         "platform_order_id": f"bulk-{n}", "platform_update_time": 0, "total_vnd": 0,
         "shipping_fee_vnd": 0, "flags": [], "flag_reasons": {}}
        for n in range(10_005)
    ]  # fmt: skip
    async with db.session() as session:
        await session.execute(insert(Order), rows)
        await session.commit()
    admin = world.users["admin"].headers
    page = (await client.get("/api/v1/orders", params={"limit": 1}, headers=admin)).json()
    assert page["total"] == 10_000
    assert page["total_capped"] is True
    assert page["next_cursor"] is not None
