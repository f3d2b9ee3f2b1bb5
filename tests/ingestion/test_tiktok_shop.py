"""TikTok Shop webhooks to orders: real API, real Redis, burst workers, simulator over HTTP."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import func, select

from api.core.config import Settings
from api.core.db import Database
from api.webhooks.models import InboundEvent
from integrations.platforms.tiktok_shop import webhook_signature
from tests.factories import World
from tests.ingestion.rig import (
    connect_tiktok_shop,
    count_orders,
    drain,
    line,
    order_by_platform_id,
    place_order,
    run_worker,
    sim_post,
    stock,
)

OFFICIAL_BODY = (
    b'{"type":1,"tts_notification_id":"7380066284010030890","shop_id":"7495540735365777507",'
    b'"timestamp":1718305585,"data":{"is_on_hold_order":true,"order_id":"576653688135258178",'
    b'"order_status":"UNPAID","update_time":1718305585}}'
)


async def test_webhook_signature_is_checked_on_the_raw_bytes(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    secret = settings.tiktok_shop_app_secret.get_secret_value()
    good = webhook_signature(settings.tiktok_shop_app_key, secret, OFFICIAL_BODY)
    url = "/webhooks/tiktok-shop"
    assert (
        await client.post(url, content=OFFICIAL_BODY, headers={"Authorization": good})
    ).status_code == 200
    tampered = OFFICIAL_BODY.replace(b"UNPAID", b"UNPAIE")
    assert (
        await client.post(url, content=tampered, headers={"Authorization": good})
    ).status_code == 401
    assert (await client.post(url, content=OFFICIAL_BODY)).status_code == 401
    assert (
        await client.post(url, content=OFFICIAL_BODY, headers={"Authorization": "0" * 64})
    ).status_code == 401


async def test_the_same_event_three_times_makes_one_order(
    settings: Settings, world: World, db: Database, tiktok_sim: str
) -> None:
    await connect_tiktok_shop(db, world.coop_a)
    sku = world.product_a.variants[0].sku
    placed = await place_order(tiktok_sim, [line(sku, 2)], status="AWAITING_SHIPMENT", duplicates=2)
    await drain(tiktok_sim)
    async with db.session() as session:
        events = (
            await session.execute(select(func.count()).select_from(InboundEvent))
        ).scalar_one()
    assert events == 1
    await run_worker(settings)
    assert await count_orders(db) == 1
    order = await order_by_platform_id(db, placed["order_id"])
    assert order is not None
    # Stock reserved, then the outbox booked it with the carrier (Viettel Post simulator).
    assert (order.status, order.fulfilment_status, order.flags) == ("confirmed", "handed_off", [])
    assert await stock(db, world.product_a.variants[0].id) == (100, 2)


async def test_delivered_before_awaiting_shipment_ends_delivered(
    settings: Settings, world: World, db: Database, tiktok_sim: str
) -> None:
    await connect_tiktok_shop(db, world.coop_a)
    sku = world.product_a.variants[0].sku
    placed = await place_order(
        tiktok_sim, [line(sku)], status="AWAITING_SHIPMENT",
        then_statuses=["AWAITING_COLLECTION", "IN_TRANSIT", "DELIVERED"], delivery="reversed",
    )  # fmt: skip
    await drain(tiktok_sim)
    await run_worker(settings)
    order = await order_by_platform_id(db, placed["order_id"])
    assert order is not None
    assert order.status == "delivered"
    assert order.platform_status == "DELIVERED"


async def test_an_older_update_never_moves_an_order_backwards(
    settings: Settings, world: World, db: Database, tiktok_sim: str
) -> None:
    await connect_tiktok_shop(db, world.coop_a)
    sku = world.product_a.variants[0].sku
    placed = await place_order(
        tiktok_sim, [line(sku)], status="AWAITING_SHIPMENT", then_statuses=["IN_TRANSIT"]
    )
    await drain(tiktok_sim)
    await run_worker(settings)
    order = await order_by_platform_id(db, placed["order_id"])
    assert order is not None
    assert order.status == "in_transit"
    # The platform retries the old AWAITING_SHIPMENT push; our state must not regress.
    await sim_post(tiktok_sim, f"/_sim/orders/{placed['order_id']}/push", {"duplicates": 1})
    await drain(tiktok_sim)
    await run_worker(settings)
    order = await order_by_platform_id(db, placed["order_id"])
    assert order is not None
    assert order.status == "in_transit"


async def test_concurrent_orders_never_oversell(
    settings: Settings, world: World, db: Database, tiktok_sim: str, client: httpx.AsyncClient
) -> None:
    await connect_tiktok_shop(db, world.coop_a)
    variant = world.product_a.variants[0]
    headers = world.users["coop_admin"].headers
    path = f"/api/v1/products/{world.product_a.id}/variants/{variant.id}/stock-adjustments"
    response = await client.post(path, json={"kind": "adjusted", "quantity": -50}, headers=headers)
    assert response.json()["stock_available"] == 50
    await asyncio.gather(
        *(
            place_order(tiktok_sim, [line(variant.sku)], status="AWAITING_SHIPMENT")
            for _ in range(200)
        )
    )
    await drain(tiktok_sim)
    await run_worker(settings)
    assert await count_orders(db) == 200
    assert await stock(db, variant.id) == (50, 50)
    flagged = await client.get(
        "/api/v1/orders", params={"flag": "backordered", "limit": 200}, headers=headers
    )
    assert flagged.json()["total"] == 150
    reserved = await client.get(
        "/api/v1/orders", params={"fulfilment_status": "handed_off", "limit": 1}, headers=headers
    )
    assert reserved.json()["total"] == 50


async def test_cancelling_releases_stock(
    settings: Settings, world: World, db: Database, tiktok_sim: str
) -> None:
    await connect_tiktok_shop(db, world.coop_a)
    variant = world.product_a.variants[0]
    placed = await place_order(tiktok_sim, [line(variant.sku, 3)], status="AWAITING_SHIPMENT")
    await drain(tiktok_sim)
    await run_worker(settings)
    assert await stock(db, variant.id) == (100, 3)
    await sim_post(
        tiktok_sim, f"/_sim/orders/{placed['order_id']}/status", {"statuses": ["CANCELLED"]}
    )
    await drain(tiktok_sim)
    await run_worker(settings)
    order = await order_by_platform_id(db, placed["order_id"])
    assert order is not None
    assert (order.status, order.fulfilment_status, order.payment_status) == (
        "cancelled",
        "cancelled",
        "voided",
    )
    assert await stock(db, variant.id) == (100, 0)


async def test_an_unknown_sku_keeps_the_order_and_flags_it(
    settings: Settings, world: World, db: Database, tiktok_sim: str, client: httpx.AsyncClient
) -> None:
    connection_id = await connect_tiktok_shop(db, world.coop_a)
    known = world.product_a.variants[0]
    placed = await place_order(
        tiktok_sim, [line(known.sku), line("NOT-OURS-1", 2)], status="AWAITING_SHIPMENT"
    )
    await drain(tiktok_sim)
    await run_worker(settings)
    order = await order_by_platform_id(db, placed["order_id"])
    assert order is not None
    assert order.flags == ["unmapped_sku"]
    assert "NOT-OURS-1" in order.flag_reasons["unmapped_sku"]
    detail = (
        await client.get(f"/api/v1/orders/{order.id}", headers=world.users["seller"].headers)
    ).json()
    assert sorted((x["seller_sku"], x["variant_id"] is None) for x in detail["lines"]) == sorted(
        [(known.sku, False), ("NOT-OURS-1", True)]
    )
    assert order.channel_connection_id == connection_id


async def test_an_order_of_an_unconnected_shop_is_kept_and_flagged(
    settings: Settings, world: World, db: Database, tiktok_sim: str
) -> None:
    placed = await place_order(tiktok_sim, [line("ANY-1")], status="AWAITING_SHIPMENT")
    await drain(tiktok_sim)
    await run_worker(settings)
    order = await order_by_platform_id(db, placed["order_id"])
    assert order is not None
    assert order.flags == ["unknown_shop"]
    assert order.cooperative_id is None


async def test_topics_we_do_not_handle_are_stored_and_acknowledged(
    client: httpx.AsyncClient, settings: Settings, db: Database
) -> None:
    body = b'{"type":6,"tts_notification_id":"n-42","shop_id":"1","timestamp":1,"data":{}}'
    secret = settings.tiktok_shop_app_secret.get_secret_value()
    signature = webhook_signature(settings.tiktok_shop_app_key, secret, body)
    response = await client.post(
        "/webhooks/tiktok-shop", content=body, headers={"Authorization": signature}
    )
    assert response.status_code == 200
    await run_worker(settings)
    async with db.session() as session:
        event = (await session.execute(select(InboundEvent))).scalar_one()
    assert (event.outcome, event.handled_at is not None) == ("ignored", True)
