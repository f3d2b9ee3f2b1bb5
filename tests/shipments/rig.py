"""Helpers for hand-off tests: orders through the TikTok simulator, carrier simulators, workers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlmodel import col

from api.cooperatives.models import Cooperative
from api.core.config import Settings
from api.core.db import Database
from api.orders.models import Order, OrderEvent, OrderLine
from api.shipments.models import Shipment
from api.shipments.outbox import ensure_shipment
from tests.factories import World
from tests.ingestion.rig import (
    connect_tiktok_shop,
    drain,
    line,
    order_by_platform_id,
    place_order,
    run_worker,
)

HANOI = {
    "province": "Thành phố Hà Nội",
    "commune": "Phường Ba Đình",
    "street": "12 Phan Đình Phùng",
}


@dataclass
class CarrierSim:
    """Drives a carrier simulator through its /_sim control endpoints."""

    base: str

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        """One control call; anything but 200 fails the test."""
        async with httpx.AsyncClient(timeout=10) as http:
            response = await http.request(method, f"{self.base}/_sim{path}", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    async def bookings(self) -> dict[str, Any]:
        """Totals, duplicates and every parcel with the request that created it."""
        result: dict[str, Any] = await self.call("GET", "/bookings?requests=true")
        return result

    async def sent(self, reference: str) -> dict[str, Any]:
        """The create body the carrier received for our reference (exactly one must exist)."""
        parcels = await self.call("GET", f"/bookings/{reference}")
        assert len(parcels) == 1, parcels
        request: dict[str, Any] = parcels[0]["request"]
        return request

    async def parcel(self, reference: str) -> dict[str, Any]:
        """The one parcel booked for a reference."""
        parcels = await self.call("GET", f"/bookings/{reference}")
        assert len(parcels) == 1, parcels
        found: dict[str, Any] = parcels[0]
        return found

    async def configure(self, **changes: Any) -> None:
        """Change latency, failure/timeout rates, webhook target (undone by the next reset)."""
        await self.call("POST", "/config", changes)

    async def advance(self, **body: Any) -> None:
        """Move parcels at the carrier (status given, or one step along the happy path)."""
        await self.call("POST", "/advance", body)


async def confirmed_order(
    settings: Settings, db: Database, world: World, tiktok_sim: str, **options: Any
) -> Order:
    """An order placed on TikTok Shop (awaiting shipment) and ingested by a burst worker."""
    await connect_tiktok_shop(db, world.coop_a)
    sku = world.product_a.variants[0].sku
    quantity = options.pop("quantity", 2)
    placed = await place_order(
        tiktok_sim, [line(sku, quantity)], status="AWAITING_SHIPMENT", **options
    )
    await drain(tiktok_sim)
    await run_worker(settings)
    order = await order_by_platform_id(db, placed["order_id"])
    assert order is not None
    return order


async def shipment_of(db: Database, order_id: int) -> Shipment:
    """The order's newest shipment."""
    async with db.session() as session:
        found = (
            await session.execute(
                select(Shipment)
                .where(col(Shipment.order_id) == order_id)
                .order_by(col(Shipment.id).desc())
                .limit(1)
            )
        ).scalar_one_or_none()
    assert found is not None
    return found


async def order_of(db: Database, order_id: int) -> Order:
    """The order as stored now."""
    async with db.session() as session:
        order = await session.get(Order, order_id)
    assert order is not None
    return order


async def event_kinds(db: Database, order_id: int) -> list[str]:
    """The order's audit trail, oldest first."""
    async with db.session() as session:
        rows = await session.execute(
            select(col(OrderEvent.kind))
            .where(col(OrderEvent.order_id) == order_id)
            .order_by(col(OrderEvent.id))
        )
    return list(rows.scalars())


async def event_details(db: Database, order_id: int, kind: str) -> list[dict[str, Any]]:
    """The details of the order's events of one kind, oldest first."""
    async with db.session() as session:
        rows = await session.execute(
            select(col(OrderEvent.detail))
            .where(col(OrderEvent.order_id) == order_id, col(OrderEvent.kind) == kind)
            .order_by(col(OrderEvent.id))
        )
    return list(rows.scalars())


async def use_carrier(db: Database, cooperative_id: int, carrier: str) -> None:
    """Have a cooperative's parcels collected by another carrier."""
    async with db.session() as session:
        await session.execute(
            update(Cooperative).where(col(Cooperative.id) == cooperative_id).values(carrier=carrier)
        )
        await session.commit()


async def set_shipment(db: Database, shipment_id: int, **values: Any) -> None:
    """Put a shipment where another part of the system would (tracking, say)."""
    async with db.session() as session:
        await session.execute(
            update(Shipment).where(col(Shipment.id) == shipment_id).values(**values)
        )
        await session.commit()


async def stored_order(
    db: Database, world: World, cooperative_id: int, *, quantity: int = 1
) -> int:
    """A confirmed order with reserved stock, stored as ingestion leaves it (no platform)."""
    product = world.product_a if cooperative_id == world.coop_a else world.product_b
    variant = product.variants[0]
    async with db.session() as session:
        order = Order(
            cooperative_id=cooperative_id,
            platform="tiktok_shop",
            shop_id="rig",
            platform_order_id=uuid.uuid4().hex[:20],
            status="confirmed",
            payment_status="cod_pending",
            fulfilment_status="reserved",
            total_vnd=variant.price_vnd * quantity,
            buyer_name="Lò Thị Mai",
            buyer_phone="0912345678",
            ship_province=HANOI["province"],
            ship_ward=HANOI["commune"],
            ship_street=HANOI["street"],
        )
        session.add(order)
        await session.flush()
        assert order.id is not None
        session.add(
            OrderLine(
                order_id=order.id,
                variant_id=variant.id,
                platform_sku_id=f"tt-{variant.sku}",
                seller_sku=variant.sku,
                name=product.name,
                quantity=quantity,
                unit_price_vnd=variant.price_vnd,
                net_weight_g=variant.net_weight_g,
                reserved_quantity=quantity,
            )
        )
        await session.commit()
        return order.id


async def outbox_row(db: Database, order_id: int) -> int:
    """Write the order's pending shipment through the outbox, its enqueue lost (no Redis)."""
    async with db.session() as session:
        order = (
            await session.execute(select(Order).where(col(Order.id) == order_id).with_for_update())
        ).scalar_one()
        shipment = await ensure_shipment(session, order)
        assert shipment is not None
        assert shipment.id is not None
        await session.commit()
        return shipment.id
