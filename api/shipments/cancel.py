"""Cancelling a shipment, and what it does to the order's stock.

A cancelled order's parcel keeps its stock reserved until the carrier confirms the cancel: if
the courier already has the parcel, the carrier refuses, the order's fulfilment goes back to
handed_off and the pickup takes the units out of on-hand as for any parcel. Lock order as in
`outbox.py`: the shipment row before its order row.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.checkout.lifecycle import refund_cancelled
from api.core.db import utcnow
from api.orders import events
from api.orders.models import FulfilmentStatus, Order, OrderLine, OrderStatus
from api.orders.reservation import release_order
from api.orders.status import move_fulfilment
from api.shipments.models import Shipment
from api.shipments.outbox import (
    BEFORE_PICKUP,
    SHIPMENT_STAGES,
    active_shipment_id,
    enqueue_cancel,
)

CancelOutcome = Literal["none", "cancelled", "requested", "refused"]
# A cancelled order's parcel still out there: its stock waits for the carrier's word.
HOLDING_STOCK = (*SHIPMENT_STAGES, FulfilmentStatus.CANCEL_REQUESTED.value)


def mark_cancelled(shipment: Shipment, reason: str) -> None:
    """The shipment is cancelled for good (a later shipment of the order needs a new row)."""
    shipment.status = "cancelled"
    shipment.status_reason = reason[:500]
    shipment.status_at = utcnow()


def refusal_reason(shipment: Shipment) -> str:
    """Why a cancellation is refused once the carrier has the parcel."""
    return (
        f"cannot cancel: the carrier already has the parcel (status {shipment.status}); "
        "it will be delivered or come back as a return"
    )


class ShipmentBusy(Exception):
    """Another transaction (a booking in flight) holds the shipment row."""


async def row_exists(session: AsyncSession, shipment_id: int) -> bool:
    """Whether the shipment exists (told apart from "locked" after a SKIP LOCKED miss)."""
    found = await session.execute(select(col(Shipment.id)).where(col(Shipment.id) == shipment_id))
    return found.scalar_one_or_none() is not None


async def lock_for_job(session: AsyncSession, shipment_id: int) -> Shipment | None:
    """Lock the shipment (SKIP LOCKED); None if it does not exist, ShipmentBusy if held."""
    shipment = (
        await session.execute(
            select(Shipment)
            .where(col(Shipment.id) == shipment_id)
            .with_for_update(skip_locked=True)
        )
    ).scalar_one_or_none()
    if shipment is None and await row_exists(session, shipment_id):
        raise ShipmentBusy(str(shipment_id))
    return shipment


async def lock_shipment(session: AsyncSession, shipment_id: int) -> Shipment:
    """The shipment, locked (waiting for a short claim or record transaction to end)."""
    row = await session.execute(
        select(Shipment)
        .where(col(Shipment.id) == shipment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return row.scalar_one()


async def release_cancelled_order(session: AsyncSession, order: Order, source: str) -> int:
    """A cancelled order whose parcel is gone for good (or never booked): its stock is free."""
    assert order.id is not None
    lines = list(
        (
            await session.execute(
                select(OrderLine)
                .where(col(OrderLine.order_id) == order.id)
                .order_by(col(OrderLine.variant_id), col(OrderLine.id))
            )
        ).scalars()
    )
    released = await release_order(session, order, lines)
    move_fulfilment(order, FulfilmentStatus.CANCELLED)
    events.record(session, order.id, "stock_released", source, units=released)
    return released


async def record_cancelled(session: AsyncSession, shipment: Shipment, reason: str) -> None:
    """Cancelled (in place or at the carrier): a live order keeps its stock for a new shipment,
    a cancelled one gets it back now that the carrier confirmed."""
    mark_cancelled(shipment, reason)
    events.record(
        session, shipment.order_id, "shipment_cancelled", "handoff",
        shipment_id=shipment.id, waybill=shipment.waybill, reason=reason,
    )  # fmt: skip
    order = (
        await session.execute(
            select(Order)
            .where(col(Order.id) == shipment.order_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one()
    if order.status == OrderStatus.CANCELLED.value:
        if order.fulfilment_status in HOLDING_STOCK:
            await release_cancelled_order(session, order, "handoff")
        await refund_cancelled(session, order)  # a paid direct order: its money goes back
        return
    if order.fulfilment_status in SHIPMENT_STAGES:
        move_fulfilment(order, FulfilmentStatus.RESERVED)


def record_cancel_refused(session: AsyncSession, shipment: Shipment, reason: str) -> None:
    """The parcel cannot be cancelled any more: say why, on the shipment and the order."""
    shipment.status_reason = reason[:500]
    events.record(
        session, shipment.order_id, "shipment_cancel_refused", "handoff",
        shipment_id=shipment.id, waybill=shipment.waybill, status=shipment.status,
        reason=reason[:500],
    )  # fmt: skip


async def _lock_live(session: AsyncSession, order_id: int) -> Shipment | None:
    return (
        await session.execute(
            select(Shipment)
            .where(col(Shipment.order_id) == order_id, col(Shipment.status) != "cancelled")
            .with_for_update(skip_locked=True)
        )
    ).scalar_one_or_none()


async def cancel_for_order(
    session: AsyncSession, order: Order, *, source: str = "outbox"
) -> CancelOutcome:
    """Undo the hand-off: in place if unbooked, at the carrier before pickup, else refused."""
    assert order.id is not None
    shipment = await _lock_live(session, order.id)
    if shipment is None:
        busy = await active_shipment_id(session, order.id)
        if busy is None:
            return "none"
        # Locked: a hand-off is booking it right now. The cancel job waits for it to finish.
        enqueue_cancel(session, busy)
        events.record(session, order.id, "shipment_cancel_requested", source, shipment_id=busy)
        return "requested"
    assert shipment.id is not None
    calling = shipment.carrier_call_until is not None and shipment.carrier_call_until > utcnow()
    if calling and shipment.status in BEFORE_PICKUP:
        # A hand-off is talking to the carrier about it: the cancel job waits for its answer.
        enqueue_cancel(session, shipment.id)
        events.record(
            session, order.id, "shipment_cancel_requested", source, shipment_id=shipment.id
        )
        return "requested"
    if shipment.waybill is None and shipment.status == "pending":
        mark_cancelled(shipment, "order cancelled before the carrier booking")
        events.record(session, order.id, "shipment_cancelled", source, shipment_id=shipment.id)
        return "cancelled"
    if shipment.status in BEFORE_PICKUP:
        enqueue_cancel(session, shipment.id)
        events.record(
            session, order.id, "shipment_cancel_requested", source,
            shipment_id=shipment.id, waybill=shipment.waybill,
        )  # fmt: skip
        return "requested"
    shipment.status_reason = f"order cancelled: {refusal_reason(shipment)}"[:500]
    events.record(
        session, order.id, "shipment_cancel_refused", source,
        shipment_id=shipment.id, status=shipment.status, reason=refusal_reason(shipment),
    )  # fmt: skip
    return "refused"
