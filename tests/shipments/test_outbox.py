"""The outbox: one pending shipment per confirmed order, written with the order's transaction."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select, update
from sqlmodel import col

from api.core.db import Database
from api.orders.models import Order
from api.shipments.models import Shipment
from api.shipments.outbox import ensure_shipment
from tests.factories import World
from tests.shipments.rig import event_kinds, order_of, outbox_row, shipment_of, stored_order


async def _ensure(db: Database, order_id: int, **values: Any) -> Shipment | None:
    async with db.session() as session:
        if values:
            await session.execute(update(Order).where(col(Order.id) == order_id).values(**values))
        order = (
            await session.execute(select(Order).where(col(Order.id) == order_id).with_for_update())
        ).scalar_one()
        shipment = await ensure_shipment(session, order)
        await session.commit()
        return shipment


async def _count(db: Database) -> int:
    async with db.session() as session:
        return int((await session.execute(select(func.count()).select_from(Shipment))).scalar_one())


async def test_one_shipment_per_order_however_often_it_is_asked(world: World, db: Database) -> None:
    order_id = await stored_order(db, world, world.coop_a, quantity=3)
    first = await _ensure(db, order_id)
    assert first is not None
    assert (first.reference, first.status, first.weight_g) == (f"PHN-{order_id}", "pending", 15_600)
    assert first.cod_amount_vnd == 3 * 180_000
    # The order left "reserved", so a second delivery of the same update writes nothing;
    # even forced back to reserved, the partial unique index keeps one live shipment.
    assert await _ensure(db, order_id) is None
    assert await _ensure(db, order_id, fulfilment_status="reserved") is None
    assert await _count(db) == 1
    order = await order_of(db, order_id)
    assert order.fulfilment_status == "reserved"  # the forced value; no second shipment row
    assert (await event_kinds(db, order_id)).count("shipment_created") == 1


async def test_flagged_unconfirmed_or_short_orders_are_not_shipped(
    world: World, db: Database
) -> None:
    order_id = await stored_order(db, world, world.coop_a)
    for values in (
        {"flags": ["over_offer_cap"]},
        {"flags": ["unmapped_sku"]},
        {"status": "pending_payment"},
        {"status": "cancelled"},
        {"fulfilment_status": "backordered"},
    ):
        reset = {"status": "confirmed", "fulfilment_status": "reserved", "flags": []}
        assert await _ensure(db, order_id, **{**reset, **values}) is None, values
    assert await _count(db) == 0


async def test_a_new_shipment_after_a_cancel_gets_a_new_reference(
    world: World, db: Database, client: httpx.AsyncClient
) -> None:
    order_id = await stored_order(db, world, world.coop_a)
    first = await outbox_row(db, order_id)
    headers = world.users["logistics"].headers
    cancelled = await client.post(f"/api/v1/shipments/{first}/cancel", headers=headers)
    assert cancelled.status_code == 200
    assert (await order_of(db, order_id)).fulfilment_status == "reserved"
    second = await outbox_row(db, order_id)  # still wanted, so it ships again
    assert second != first
    assert (await shipment_of(db, order_id)).reference == f"PHN-{order_id}-2"
