"""Helpers for ingestion tests: connect the simulator's shop, place orders, run a burst worker."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select
from sqlmodel import col

from api.catalogue.models import Variant
from api.channels.models import ChannelConnection
from api.core.config import Settings
from api.core.db import Database
from api.orders.models import Order
from integrations.simulators import shopee as shopee_sim_app
from integrations.simulators import tiktok_shop as tiktok_shop_sim
from workers.settings import create_worker


async def connect_tiktok_shop(db: Database, cooperative_id: int) -> int:
    """Connect the simulator's default TikTok shop to a cooperative."""
    sim = tiktok_shop_sim.TikTokShopSimConfig()
    async with db.session() as session:
        connection = ChannelConnection(
            cooperative_id=cooperative_id,
            platform="tiktok_shop",
            shop_id=tiktok_shop_sim.DEFAULT_SHOP_ID,
            shop_cipher=tiktok_shop_sim.DEFAULT_SHOP_CIPHER,
            access_token=sim.access_token,
            refresh_token=sim.refresh_token,
        )
        session.add(connection)
        await session.commit()
        assert connection.id is not None
        return connection.id


async def connect_shopee(db: Database, cooperative_id: int) -> int:
    """Connect the simulator's default Shopee shop to a cooperative."""
    sim = shopee_sim_app.ShopeeSimConfig()
    async with db.session() as session:
        connection = ChannelConnection(
            cooperative_id=cooperative_id,
            platform="shopee",
            shop_id=str(shopee_sim_app.DEFAULT_SHOP_ID),
            access_token=sim.access_token,
            refresh_token=sim.refresh_token,
        )
        session.add(connection)
        await session.commit()
        assert connection.id is not None
        return connection.id


def line(sku: str, quantity: int = 1, price: int = 180_000) -> dict[str, Any]:
    """An order line whose seller SKU is one of our variant SKUs."""
    return {"sku_id": f"tt-{sku}", "seller_sku": sku, "quantity": quantity, "unit_price": price}


async def place_order(sim: str, lines: list[dict[str, Any]], **options: Any) -> dict[str, Any]:
    """Create an order on the simulator (which pushes its webhooks) and return its summary."""
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.post(f"{sim}/_sim/orders", json={"lines": lines, **options})
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result


async def sim_post(sim: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """POST to a simulator control endpoint."""
    async with httpx.AsyncClient(timeout=60) as http:
        response = await http.post(f"{sim}{path}", json=body or {})
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result


async def drain(sim: str) -> dict[str, Any]:
    """Wait until the simulator has delivered every queued webhook."""
    return await sim_post(sim, "/_sim/drain?timeout_s=30")


async def run_worker(settings: Settings) -> tuple[int, int]:
    """Run a real arq worker in burst mode until the queue is empty; (complete, failed)."""
    worker = create_worker(burst=True, handle_signals=False, settings=settings)
    try:
        await worker.main()
    finally:
        await worker.close()
    return worker.jobs_complete, worker.jobs_failed


async def order_by_platform_id(db: Database, platform_order_id: str) -> Order | None:
    """Our order for a platform order id."""
    async with db.session() as session:
        return (
            await session.execute(
                select(Order).where(col(Order.platform_order_id) == platform_order_id)
            )
        ).scalar_one_or_none()


async def count_orders(db: Database) -> int:
    """How many orders we hold."""
    async with db.session() as session:
        return int((await session.execute(select(func.count()).select_from(Order))).scalar_one())


async def stock(db: Database, variant_id: int) -> tuple[int, int]:
    """(on hand, reserved) of a variant."""
    async with db.session() as session:
        variant = await session.get(Variant, variant_id)
        assert variant is not None
        return variant.stock_on_hand, variant.stock_reserved
