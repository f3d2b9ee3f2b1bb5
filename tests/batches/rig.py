"""Helpers for batch tests: booked parcels waiting at a collection point, actors, batches."""

from __future__ import annotations

import itertools
from datetime import date, time, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlmodel import col

from api.accounts.models import Role, User
from api.accounts.scope import Actor
from api.batches import service
from api.batches.models import BatchEvent
from api.batches.schemas import BatchDetail
from api.core.db import Database
from api.orders.models import Order
from api.shipments.models import Shipment
from tests.factories import World
from tests.shipments.rig import outbox_row, set_shipment, stored_order

_waybills = itertools.count(1)
TOMORROW = date.today() + timedelta(days=1)


async def booked_parcel(
    db: Database,
    world: World,
    cooperative_id: int | None = None,
    *,
    carrier: str | None = None,
    quantity: int = 1,
) -> Shipment:
    """A shipment booked with its carrier (a waybill, handed off) and its order handed off, as
    the hand-off job leaves them."""
    coop = cooperative_id or world.coop_a
    order_id = await stored_order(db, world, coop, quantity=quantity)
    shipment_id = await outbox_row(db, order_id)
    values: dict[str, Any] = {
        "waybill": f"WB{next(_waybills):08d}",
        "status": "handed_off",
        "sort_code": "HN-01",
    }
    if carrier is not None:
        values["carrier"] = carrier
    await set_shipment(db, shipment_id, **values)
    async with db.session() as session:
        await session.execute(
            update(Order).where(col(Order.id) == order_id).values(fulfilment_status="handed_off")
        )
        await session.commit()
        return (
            await session.execute(select(Shipment).where(col(Shipment.id) == shipment_id))
        ).scalar_one()


async def actor_of(db: Database, world: World, role: str) -> Actor:
    """The Actor of one of the world's users."""
    async with db.session() as session:
        user = await session.get(User, world.users[role].user_id)
    assert user is not None
    assert user.id is not None
    return Actor(
        user_id=user.id,
        role=Role(user.role),
        cooperative_id=user.cooperative_id,
        province_codes=tuple(user.province_codes) if user.province_codes is not None else None,
    )


async def new_batch(
    db: Database,
    actor: Actor,
    cooperative_id: int,
    *,
    carrier: str = "viettel_post",
    fill: bool = True,
    start: time = time(8),
    day: date = TOMORROW,
) -> BatchDetail:
    """A batch created (and committed) through the service."""
    async with db.session() as session:
        batch = await service.create_batch(
            session, actor, cooperative_id=cooperative_id, carrier=carrier, pickup_date=day,
            window_start=start, window_end=time(start.hour + 3), fill=fill,
        )  # fmt: skip
        await session.commit()
    return batch


async def detail(db: Database, actor: Actor, batch_id: int) -> BatchDetail:
    """The batch as the actor sees it now."""
    async with db.session() as session:
        return await service.get_batch(session, actor, batch_id)


async def trail(db: Database, batch_id: int) -> list[BatchEvent]:
    """The batch's events, oldest first."""
    async with db.session() as session:
        rows = await session.execute(
            select(BatchEvent)
            .where(col(BatchEvent.batch_id) == batch_id)
            .order_by(col(BatchEvent.id))
        )
        return list(rows.scalars())
