"""Flash sale: 1,000 near-simultaneous orders for a live offer capped at 100 units.

Target (PRODUCT.md): exactly 100 units accepted on the offer, stock never negative. Every order
is kept: those past the cap are flagged `over_offer_cap`, those past the stock `backordered`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlmodel import col

from api.catalogue.models import MovementKind, Variant
from api.catalogue.stock import move_stock
from api.channels.models import ChannelConnection
from api.core.db import Database
from api.live_sessions.models import LiveOffer, LiveSession
from bench.end_to_end import STOCK, pipeline, sim_skus, wait_for_orders
from bench.env import scalar

CAP = 100
STOCK_LEFT = 150


@dataclass
class FlashSale:
    """What the flash sale ended with."""

    orders: int
    stored: int
    claimed: int
    over_cap: int
    backordered: int
    min_available: int
    seconds: float


async def _open_sale(db_url: str) -> None:
    db = Database(
        db_url.replace("postgresql://", "postgresql+asyncpg://", 1), pool_size=1, max_overflow=0
    )
    async with db.session() as session:
        variant = (
            await session.execute(select(Variant).where(col(Variant.sku) == "SENGCU-5KG"))
        ).scalar_one()
        connection = (await session.execute(select(ChannelConnection))).scalar_one()
        assert variant.id is not None
        assert connection.id is not None
        # Leave 150 on hand, so the cap (100) binds before the stock does.
        await move_stock(
            session, variant.id, MovementKind.ADJUSTED, STOCK_LEFT - STOCK, reason="flash sale"
        )
        live = LiveSession(cooperative_id=variant.cooperative_id, channel_connection_id=connection.id,
                           platform="tiktok_shop", shop_id=connection.shop_id, title="Flash sale gạo Séng Cù",
                           scheduled_start=datetime.now(UTC), actual_start=datetime.now(UTC) - timedelta(minutes=1),
                           status="live")  # fmt: skip
        session.add(live)
        await session.flush()
        assert live.id is not None
        session.add(
            LiveOffer(
                live_session_id=live.id,
                variant_id=variant.id,
                live_price_vnd=150_000,
                quantity_cap=CAP,
            )
        )
        await session.commit()
    await db.dispose()


async def measure(orders: int = 1000, workers: int = 2) -> FlashSale:
    """Run a flash sale through the whole pipeline and read the outcome from the database."""
    async with pipeline(workers) as run:
        await _open_sale(run.db_url)
        skus = [s for s in sim_skus() if s["seller_sku"] == "SENGCU-5KG"]
        started = time.monotonic()
        response = await run.http.post(f"{run.sim_url}/_sim/bulk-orders", json={
            "count": orders, "skus": skus, "status": "AWAITING_SHIPMENT", "max_lines": 1,
            "max_quantity": 1, "seed": 11})  # fmt: skip
        response.raise_for_status()
        await wait_for_orders(run.db_url, orders, 600, where="true")
        seconds = time.monotonic() - started
        db = run.db_url
        return FlashSale(
            orders=orders,
            stored=await scalar(db, "SELECT count(*) FROM orders"),
            claimed=await scalar(db, "SELECT coalesce(sum(units_claimed), 0) FROM live_offers"),
            over_cap=await scalar(
                db, "SELECT count(*) FROM orders WHERE 'over_offer_cap' = ANY(flags)"
            ),
            backordered=await scalar(
                db, "SELECT count(*) FROM orders WHERE 'backordered' = ANY(flags)"
            ),
            min_available=await scalar(
                db, "SELECT min(stock_on_hand - stock_reserved) FROM variants"
            ),
            seconds=seconds,
        )


def report(result: FlashSale) -> None:
    """Print the flash sale as a table."""
    print(f"\nFlash sale ({result.orders} orders of 1 unit, offer cap {CAP}, {STOCK_LEFT} on hand)")
    print(
        "| orders | stored | units claimed on offer | flagged over cap | backordered | min available | seconds |"
    )
    print(
        "|-------:|-------:|-----------------------:|-----------------:|------------:|--------------:|--------:|"
    )
    print(
        f"| {result.orders} | {result.stored} | {result.claimed} | {result.over_cap} | {result.backordered} "
        f"| {result.min_available} | {result.seconds:.1f} |"
    )
    print(f"target: exactly {CAP} claimed, stock never negative (min available >= 0)")
