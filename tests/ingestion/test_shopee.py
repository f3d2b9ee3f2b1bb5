"""Shopee pushes to orders: signed push, get_order_detail through the real client, stock."""

from __future__ import annotations

import httpx

from api.core.config import Settings
from api.core.db import Database
from integrations.platforms.shopee import push_signature
from tests.factories import World
from tests.ingestion.rig import (
    connect_shopee,
    drain,
    order_by_platform_id,
    place_order,
    run_worker,
    sim_post,
    stock,
)


def shopee_line(sku: str, quantity: int = 1, price: int = 165_000) -> dict[str, object]:
    """A Shopee order line (SKU ids are item:model pairs)."""
    return {
        "sku_id": "2600144041:101",
        "seller_sku": sku,
        "quantity": quantity,
        "unit_price": price,
    }


async def test_a_shopee_order_is_stored_with_stock_reserved(
    settings: Settings, world: World, db: Database, shopee_sim: str
) -> None:
    await connect_shopee(db, world.coop_a)
    variant = world.product_a.variants[0]
    placed = await place_order(
        shopee_sim, [shopee_line(variant.sku, 2)], status="READY_TO_SHIP", duplicates=1
    )
    await drain(shopee_sim)
    await run_worker(settings)
    order = await order_by_platform_id(db, placed["order_id"])
    assert order is not None
    assert (order.platform, order.status, order.flags) == ("shopee", "confirmed", [])
    assert order.total_vnd == placed["total_amount"]
    on_hand, reserved = await stock(db, variant.id)
    assert (on_hand, reserved) == (100, 2)


async def test_a_shopee_cancellation_releases_stock(
    settings: Settings, world: World, db: Database, shopee_sim: str
) -> None:
    await connect_shopee(db, world.coop_a)
    variant = world.product_a.variants[0]
    placed = await place_order(shopee_sim, [shopee_line(variant.sku, 3)], status="READY_TO_SHIP")
    await drain(shopee_sim)
    await run_worker(settings)
    await sim_post(
        shopee_sim, f"/_sim/orders/{placed['order_id']}/status", {"statuses": ["CANCELLED"]}
    )
    await drain(shopee_sim)
    await run_worker(settings)
    order = await order_by_platform_id(db, placed["order_id"])
    assert order is not None
    assert order.status == "cancelled"
    assert await stock(db, variant.id) == (100, 0)


async def test_a_push_signed_for_another_url_is_refused(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    body = b'{"code":3,"shop_id":727720655,"timestamp":1,"data":{"ordersn":"X1","status":"UNPAID","update_time":1}}'
    key = settings.shopee_partner_key.get_secret_value()
    wrong = push_signature(key, "https://elsewhere.example/webhooks/shopee", body)
    response = await client.post("/webhooks/shopee", content=body, headers={"Authorization": wrong})
    assert response.status_code == 401
    right = push_signature(key, f"{str(client.base_url).rstrip('/')}/webhooks/shopee", body)
    response = await client.post("/webhooks/shopee", content=body, headers={"Authorization": right})
    assert response.status_code == 200
