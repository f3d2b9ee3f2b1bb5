"""Helpers for tracking tests: a booked parcel, carrier webhooks, and workers run to the end."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
from sqlalchemy import func, select, update
from sqlmodel import col

from api.catalogue.models import StockMovement
from api.cooperatives.models import Cooperative
from api.core.config import Settings
from api.core.db import Database
from api.orders.models import Order, OrderEvent
from api.shipments.models import Shipment, ShipmentEvent
from api.webhooks.models import InboundEvent
from integrations.carriers.viettel_post.webhook import VIETNAM_TZ
from tests.factories import World
from tests.ingestion.rig import (
    connect_tiktok_shop,
    drain,
    line,
    order_by_platform_id,
    place_order,
    run_worker,
)

VTP_PATH = "/webhooks/carriers/viettel-post"
GHN_PATH = "/webhooks/carriers/ghn"
QUANTITY = 2


@dataclass(frozen=True)
class Booked:
    """An order with reserved stock and its shipment, booked with the carrier simulator."""

    order_id: int
    shipment_id: int
    variant_id: int
    reference: str
    waybill: str
    carrier: str
    cod_vnd: int


async def _booked_shipment(settings: Settings, db: Database, order_id: int) -> Shipment:
    for _ in range(50):
        async with db.session() as session:
            shipment = (
                await session.execute(select(Shipment).where(col(Shipment.order_id) == order_id))
            ).scalar_one_or_none()
        if shipment is not None and shipment.waybill is not None:
            return shipment
        await run_worker(settings)
    raise AssertionError(f"order {order_id} was not booked: {shipment}")


async def booked_parcel(
    settings: Settings,
    db: Database,
    world: World,
    tiktok_sim: str,
    *,
    carrier: str = "viettel_post",
    is_cod: bool = True,
    store_waybill: bool = True,
) -> Booked:
    """A TikTok Shop order, confirmed with stock reserved, booked by the hand-off job."""
    async with db.session() as session:
        await session.execute(
            update(Cooperative).where(col(Cooperative.id) == world.coop_a).values(carrier=carrier)
        )
        await session.commit()
    await connect_tiktok_shop(db, world.coop_a)
    sku = world.product_a.variants[0].sku
    placed = await place_order(
        tiktok_sim, [line(sku, QUANTITY)], status="AWAITING_SHIPMENT", is_cod=is_cod
    )
    await drain(tiktok_sim)
    await run_worker(settings)
    order = await order_by_platform_id(db, placed["order_id"])
    assert order is not None
    assert order.id is not None
    shipment = await _booked_shipment(settings, db, order.id)
    assert shipment.id is not None
    assert shipment.waybill is not None
    assert (shipment.carrier, shipment.status) == (carrier, "handed_off")
    if not store_waybill:
        await _forget_waybill(db, shipment.id, order.id)
    variant_id = world.product_a.variants[0].id
    return Booked(
        order.id, shipment.id, variant_id, shipment.reference, shipment.waybill, carrier,
        shipment.cod_amount_vnd,
    )  # fmt: skip


async def _forget_waybill(db: Database, shipment_id: int, order_id: int) -> None:
    """As if the booking call timed out after the carrier accepted it: no waybill stored yet."""
    async with db.session() as session:
        await session.execute(
            update(Shipment)
            .where(col(Shipment.id) == shipment_id)
            .values(waybill=None, status="pending", booked_at=None, status_at=None)
        )
        await session.execute(
            update(Order)
            .where(col(Order.id) == order_id)
            .values(fulfilment_status="pending_shipment")
        )
        await session.commit()


async def sim_call(sim: str, method: str, path: str, body: Any = None) -> Any:
    """Call a carrier simulator's /_sim control endpoint."""
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.request(method, f"{sim}/_sim{path}", json=body)
        response.raise_for_status()
        return response.json()


async def advance(sim: str, waybill: str, status: str, **extra: Any) -> None:
    """Move a parcel at the simulator, which pushes the carrier's status webhook to the API."""
    moved = await sim_call(sim, "POST", "/advance", {"waybill": waybill, "status": status, **extra})
    assert moved["moved"] == 1, moved


async def delivered_webhooks(sim: str, count: int) -> None:
    """Wait until the simulator has delivered `count` webhooks, each answered 200."""
    for _ in range(400):
        log = await sim_call(sim, "GET", "/webhooks")
        if len(log) >= count and all(entry["delivered"] for entry in log):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"webhooks not delivered: {log}")


async def work_off_inbox(settings: Settings, db: Database) -> None:
    """Run burst workers until every inbox row is handled (a job rung a moment late included)."""
    for _ in range(50):
        await run_worker(settings)
        async with db.session() as session:
            open_rows = await session.scalar(
                select(func.count())
                .select_from(InboundEvent)
                .where(col(InboundEvent.handled_at).is_(None))
            )
        if not open_rows:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("inbox rows left unhandled")


def vtp_time(when: datetime) -> str:
    """ORDER_STATUSDATE as VTP writes it: Vietnam local time, to the second."""
    return when.astimezone(VIETNAM_TZ).strftime("%d/%m/%Y %H:%M:%S")


def vtp_body(
    waybill: str,
    code: int,
    when: datetime,
    *,
    token: str,
    reference: str | None = None,
    cod: int = 0,
    reason_code: int | None = None,
) -> bytes:
    """A Viettel Post status webhook body (VTP-DOC §7.1 keys) as VTP posts it."""
    data = {
        "ORDER_NUMBER": waybill,
        "ORDER_REFERENCE": reference,
        "ORDER_STATUSDATE": vtp_time(when),
        "ORDER_STATUS": code,
        "STATUS_NAME": "Cập nhật hành trình",
        "LOCALION_CURRENTLY": "Bưu cục Lai Châu",
        "LOCATION_CURRENTLY": "Bưu cục Lai Châu",
        "MONEY_COLLECTION": cod,
        "PRODUCT_WEIGHT": 10_400,
        "REASON_CODE": reason_code,
        "IS_RETURNING": code in (502, 504, 515),
    }
    return orjson.dumps({"DATA": data, "TOKEN": token})


async def post_vtp(client: httpx.AsyncClient, settings: Settings, body: bytes) -> int:
    """POST a VTP webhook with our secret in `Authorization`, as VTP is configured to."""
    secret = settings.viettel_post_webhook_secret.get_secret_value()
    response = await client.post(
        VTP_PATH,
        content=body,
        headers={"Authorization": secret, "Content-Type": "application/json"},
    )
    return response.status_code


def at(minutes: int) -> datetime:
    """A status time `minutes` after a fixed morning (whole seconds, as VTP sends)."""
    return datetime(2026, 11, 20, 1, 0, tzinfo=UTC) + timedelta(minutes=minutes)


async def shipment_of(db: Database, shipment_id: int) -> Shipment:
    """The shipment row as stored."""
    async with db.session() as session:
        shipment = await session.get(Shipment, shipment_id)
        assert shipment is not None
        return shipment


async def order_of(db: Database, order_id: int) -> Order:
    """The order row as stored."""
    async with db.session() as session:
        order = await session.get(Order, order_id)
        assert order is not None
        return order


async def events_of(db: Database, shipment_id: int) -> list[ShipmentEvent]:
    """A shipment's tracking events in arrival order."""
    async with db.session() as session:
        rows = await session.execute(
            select(ShipmentEvent)
            .where(col(ShipmentEvent.shipment_id) == shipment_id)
            .order_by(col(ShipmentEvent.id))
        )
        return list(rows.scalars())


async def order_event_kinds(db: Database, order_id: int, source: str) -> list[str]:
    """Kinds of the order events written by one source, in order."""
    async with db.session() as session:
        rows = await session.execute(
            select(col(OrderEvent.kind))
            .where(col(OrderEvent.order_id) == order_id, col(OrderEvent.source) == source)
            .order_by(col(OrderEvent.id))
        )
        return list(rows.scalars())


async def ledger(db: Database, order_id: int) -> list[tuple[str, int]]:
    """(kind, quantity) of the stock movements of one order, in order."""
    async with db.session() as session:
        rows = await session.execute(
            select(col(StockMovement.kind), col(StockMovement.quantity))
            .where(col(StockMovement.order_id) == order_id)
            .order_by(col(StockMovement.id))
        )
        return [(kind, quantity) for kind, quantity in rows.all()]


async def inbox_outcomes(db: Database, source: str) -> list[str | None]:
    """Outcomes of one source's inbox rows, in arrival order."""
    async with db.session() as session:
        rows = await session.execute(
            select(col(InboundEvent.outcome))
            .where(col(InboundEvent.source) == source)
            .order_by(col(InboundEvent.id))
        )
        return list(rows.scalars())
