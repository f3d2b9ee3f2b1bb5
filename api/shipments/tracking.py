"""Carrier tracking events applied to shipments and orders: forward only, each effect once.

Called by the tracking job inside its transaction (the job commits). The shipment row and then
its order row are locked, so two events of one parcel apply one after the other; that is the lock
order of the hand-off jobs too (see `outbox.py`), so neither waits on the other in reverse. The
event row is inserted with ON CONFLICT on (carrier, event key): a duplicate changes nothing.

Stock effects are written so that running them again finds nothing left to do: units leave the
warehouse only while a line still holds a reservation, and a return puts back only what the
ledger says left for this order and has not come back yet.
"""

from __future__ import annotations

import logging
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.batches.membership import follow, leave_open_batch
from api.catalogue.models import MovementKind, StockMovement
from api.catalogue.stock import move_stock
from api.core.db import utcnow
from api.orders import events
from api.orders.models import (
    FulfilmentStatus,
    Order,
    OrderLine,
    OrderStatus,
    PaymentStatus,
)
from api.orders.reservation import release_order
from api.orders.status import move_fulfilment
from api.shipments.models import Shipment, ShipmentEvent
from integrations.carriers.base import (
    ShipmentStatus,
    TrackingUpdate,
    can_transition,
    is_terminal,
)

log = logging.getLogger(__name__)
Locked = TypeVar("Locked", Order, Shipment)


class Outcome(StrEnum):
    """What one carrier event did (also the inbox row's outcome)."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"
    STALE = "stale"
    AFTER_TERMINAL = "after_terminal"
    UNKNOWN_WAYBILL = "unknown_waybill"


# Every status from pickup on means the goods have left the cooperative's store, including
# delivered and returning: if the pickup event was lost or comes late, the first of these ships.
LEFT_THE_STORE = frozenset(
    {
        ShipmentStatus.PICKED_UP,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.OUT_FOR_DELIVERY,
        ShipmentStatus.DELIVERY_FAILED,
        ShipmentStatus.RETURNING,
        ShipmentStatus.DELIVERED,
    }
)
# The fulfilment axis only moves forward under carrier events; delivered and returned are ends.
_COD_OPEN = frozenset({PaymentStatus.PENDING.value, PaymentStatus.COD_PENDING.value})


def _clip(text: str | None, size: int) -> str | None:
    return text[:size] if text else None


def source_of(update: TrackingUpdate) -> str:
    """The order-event source of a carrier's events."""
    return f"carrier:{update.carrier}"


async def find_shipment(session: AsyncSession, update: TrackingUpdate) -> Shipment | None:
    """The shipment an event is about: by waybill, else by our reference (waybill not stored)."""
    by_waybill = await session.execute(
        select(Shipment).where(
            col(Shipment.carrier) == update.carrier, col(Shipment.waybill) == update.waybill
        )
    )
    shipment = by_waybill.scalar_one_or_none()
    if shipment is not None or not update.reference:
        return shipment
    # The booking timed out after the carrier accepted it, and the carrier told us first.
    by_reference = await session.execute(
        select(Shipment).where(
            col(Shipment.carrier) == update.carrier, col(Shipment.reference) == update.reference
        )
    )
    return by_reference.scalar_one_or_none()


async def record_unknown(session: AsyncSession, update: TrackingUpdate, **detail: Any) -> None:
    """Keep an event for a parcel we hold no shipment for (a person may match it later)."""
    await _insert_event(session, None, update, Outcome.UNKNOWN_WAYBILL, detail)
    log.warning(
        "carrier event for an unknown waybill",
        extra={"carrier": update.carrier, "waybill": update.waybill, "status": update.raw_status},
    )


async def apply_tracking(
    session: AsyncSession, shipment: Shipment, update: TrackingUpdate
) -> Outcome:
    """Record one carrier event and, when it moves the parcel forward, apply its effects."""
    assert shipment.id is not None
    # A hand-off booking this parcel holds the row during its carrier call: wait for it.
    shipment = await _lock(session, Shipment, shipment.id)
    order = await _lock(session, Order, shipment.order_id)
    if shipment.waybill not in (None, update.waybill):
        # Our reference, another parcel: the carrier holds two bookings for one reference.
        await record_unknown(session, update, reference_shipment_id=shipment.id)
        return Outcome.UNKNOWN_WAYBILL
    if shipment.waybill is None:
        _adopt(session, order, shipment, update)
        await session.flush()
        # Booked after all: a re-booking follows its order's parcel into the carrier's batch.
        await follow(session, shipment.id, source="system")
    outcome = _judge(shipment, update, await _last_applied_at(session, shipment))
    if not await _insert_event(session, shipment.id, update, outcome, {}):
        return Outcome.DUPLICATE
    if outcome is Outcome.APPLIED:
        await _move(session, order, shipment, update)
    await session.flush()
    return outcome


def _adopt(session: AsyncSession, order: Order, shipment: Shipment, update: TrackingUpdate) -> None:
    """The booking timed out, yet the carrier has the parcel: its event completes the hand-off."""
    # VTP's own advice (fact sheet §1.7); a later hand-off run finds it booked and leaves it.
    assert order.id is not None
    shipment.waybill = update.waybill
    shipment.awaiting_confirmation_since = None  # the carrier's word settles it
    if shipment.status == ShipmentStatus.PENDING.value:
        shipment.status = ShipmentStatus.HANDED_OFF.value
        shipment.booked_at = utcnow()
        shipment.booking_error = None
    else:
        # Cancelled here before the booking was known: a person must cancel it at the carrier.
        log.warning("carrier holds a parcel for a closed shipment", extra={"id": shipment.id})
    events.record(
        session, order.id, "waybill_adopted", source_of(update),
        shipment_id=shipment.id, waybill=update.waybill, status=shipment.status,
    )  # fmt: skip
    _set_fulfilment(session, order, FulfilmentStatus.HANDED_OFF, source_of(update))


def _judge(shipment: Shipment, update: TrackingUpdate, last_at: datetime | None) -> Outcome:
    current = ShipmentStatus(shipment.status)
    if is_terminal(current):
        return Outcome.AFTER_TERMINAL
    # Compared with the carrier's own clock (its last applied event), never with our booking
    # time: VTP's status times have one-second precision and would look older than our clock.
    if last_at is not None and update.occurred_at < last_at:
        return Outcome.STALE
    if not can_transition(current, update.status):
        return Outcome.STALE
    return Outcome.APPLIED


async def _lock(session: AsyncSession, model: type[Locked], row_id: int) -> Locked:
    row = await session.execute(
        select(model)
        .where(col(model.id) == row_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return row.scalar_one()


async def _last_applied_at(session: AsyncSession, shipment: Shipment) -> datetime | None:
    return await session.scalar(
        select(func.max(col(ShipmentEvent.occurred_at))).where(
            col(ShipmentEvent.shipment_id) == shipment.id,
            col(ShipmentEvent.outcome) == Outcome.APPLIED.value,
        )
    )


async def _insert_event(
    session: AsyncSession,
    shipment_id: int | None,
    update: TrackingUpdate,
    outcome: Outcome,
    extra: dict[str, Any],
) -> bool:
    """Insert the event once; False when it was already recorded against a shipment."""
    detail = {
        "reference": update.reference,
        "cod_amount_vnd": update.cod_amount_vnd,
        "weight_grams": update.weight_grams,
        **extra,
    }
    stmt = insert(ShipmentEvent).values(
        shipment_id=shipment_id,
        carrier=update.carrier,
        event_key=update.event_key[:255],
        waybill=update.waybill[:64],
        raw_status=update.raw_status[:64],
        status=update.status.value,
        reason=_clip(update.reason, 500),
        occurred_at=update.occurred_at,
        outcome=outcome.value,
        detail=detail,
    )
    # A replayed event once kept as unknown may now find its shipment: it takes the new result.
    upsert = stmt.on_conflict_do_update(
        index_elements=["carrier", "event_key"],
        set_={"shipment_id": stmt.excluded.shipment_id, "outcome": stmt.excluded.outcome},
        where=col(ShipmentEvent.shipment_id).is_(None),
    ).returning(col(ShipmentEvent.id))
    return (await session.execute(upsert)).scalar() is not None


async def _move(
    session: AsyncSession, order: Order, shipment: Shipment, update: TrackingUpdate
) -> None:
    previous = shipment.status
    shipment.status = update.status.value
    shipment.carrier_status = update.raw_status[:64]
    shipment.status_reason = _clip(update.reason, 500)
    shipment.status_at = update.occurred_at
    assert order.id is not None
    if previous != shipment.status:
        events.record(
            session, order.id, "shipment_status_changed", source_of(update),
            shipment_id=shipment.id, waybill=update.waybill, carrier_status=update.raw_status,
            reason=update.reason, **{"from": previous, "to": shipment.status},
        )  # fmt: skip
    await _effects(session, order, shipment, update)


async def _effects(
    session: AsyncSession, order: Order, shipment: Shipment, update: TrackingUpdate
) -> None:
    status = update.status
    if status in LEFT_THE_STORE:
        await _ship_reserved(session, order, update)
        _set_fulfilment(session, order, FulfilmentStatus.SHIPPED, source_of(update))
    if status is ShipmentStatus.DELIVERED:
        _set_fulfilment(session, order, FulfilmentStatus.DELIVERED, source_of(update))
        _record_cod(session, order, shipment, update)
    elif status is ShipmentStatus.RETURNED:
        await _take_back(session, order, update)
        _set_fulfilment(session, order, FulfilmentStatus.RETURNED, source_of(update))
    elif status is ShipmentStatus.CANCELLED:
        # A dead waybill is not packed or handed over: out of its open batch (and a re-booking
        # of the order follows into it, api/batches/membership.py).
        await leave_open_batch(
            session, shipment.id, reason="the carrier cancelled the booking", source="system"
        )
        await _on_cancelled(session, order, update)


async def _lines_of(session: AsyncSession, order_id: int) -> list[OrderLine]:
    # The order row is locked, and lines change only under it: no lock of their own needed.
    rows = await session.execute(
        select(OrderLine)
        .where(col(OrderLine.order_id) == order_id)
        .order_by(col(OrderLine.variant_id), col(OrderLine.id))
    )
    return list(rows.scalars())


async def _ship_reserved(session: AsyncSession, order: Order, update: TrackingUpdate) -> None:
    """Reserved units leave the store for good (runs once: it empties the reservations)."""
    assert order.id is not None
    shipped = 0
    for line in await _lines_of(session, order.id):
        if line.variant_id is None or line.reserved_quantity <= 0:
            continue
        levels = await move_stock(
            session,
            line.variant_id,
            MovementKind.SHIPPED,
            line.reserved_quantity,
            reason=f"order {order.platform_order_id}: parcel {update.waybill} picked up",
            order_id=order.id,
        )
        if levels is None:
            # Cannot happen while reserved <= on hand holds; kept visible rather than raised.
            log.error("shipped stock refused", extra={"order_id": order.id, "line_id": line.id})
            continue
        shipped += line.reserved_quantity
        line.reserved_quantity = 0
    if shipped:
        events.record(session, order.id, "stock_shipped", source_of(update), units=shipped)


async def _units_out(session: AsyncSession, order: Order, lines: list[OrderLine]) -> dict[int, int]:
    """Per variant, units this order shipped and that have not come back (from the ledger)."""
    variants = sorted({line.variant_id for line in lines if line.variant_id is not None})
    if not variants:
        return {}
    # SHIPPED rows carry negative quantities and RETURNED rows positive ones; the variant filter
    # lets the ledger's (variant_id, id) index find the rows.
    rows = await session.execute(
        select(col(StockMovement.variant_id), func.sum(col(StockMovement.quantity)))
        .where(
            col(StockMovement.variant_id).in_(variants),
            col(StockMovement.order_id) == order.id,
            col(StockMovement.kind).in_((MovementKind.SHIPPED.value, MovementKind.RETURNED.value)),
        )
        .group_by(col(StockMovement.variant_id))
    )
    return {int(variant): -int(net) for variant, net in rows.all() if net < 0}


async def _take_back(session: AsyncSession, order: Order, update: TrackingUpdate) -> None:
    """The parcel is back: shipped units return on hand, never-shipped reservations are freed."""
    assert order.id is not None
    lines = await _lines_of(session, order.id)
    returned = 0
    for variant_id, units in sorted((await _units_out(session, order, lines)).items()):
        levels = await move_stock(
            session,
            variant_id,
            MovementKind.RETURNED,
            units,
            reason=f"order {order.platform_order_id}: parcel {update.waybill} returned",
            order_id=order.id,
        )
        returned += units if levels is not None else 0
    # Units still reserved never left by our ledger (the pickup event was lost): only free them.
    released = await release_order(session, order, lines)
    if returned or released:
        events.record(
            session, order.id, "stock_returned", source_of(update),
            units=returned, released=released,
        )  # fmt: skip


async def _on_cancelled(session: AsyncSession, order: Order, update: TrackingUpdate) -> None:
    """The carrier dropped the booking: the goods are still here, reserved for the order."""
    assert order.id is not None
    source = source_of(update)
    if order.status == OrderStatus.CANCELLED.value:
        released = await release_order(session, order, await _lines_of(session, order.id))
        if released:
            events.record(session, order.id, "stock_released", source, units=released)
        if order.fulfilment_status == FulfilmentStatus.CANCEL_REQUESTED.value:
            _set_fulfilment(session, order, FulfilmentStatus.CANCELLED, source)
        return
    lines = await _lines_of(session, order.id)
    if any(line.reserved_quantity > 0 for line in lines):
        # The order still wants its goods; a new booking can take the same reservation (the
        # fulfilment rule moves it back to reserved only from a shipment stage).
        _set_fulfilment(session, order, FulfilmentStatus.RESERVED, source)


def _record_cod(
    session: AsyncSession, order: Order, shipment: Shipment, update: TrackingUpdate
) -> None:
    """Delivered: what the carrier collected (reconciling its payout is a separate matter)."""
    assert order.id is not None
    # VTP/GHN report the amount they collected; without it, the amount we asked for.
    collected = update.cod_amount_vnd
    shipment.cod_collected_vnd = shipment.cod_amount_vnd if collected is None else collected
    if order.payment_method != "cod" or order.payment_status not in _COD_OPEN:
        return
    previous = order.payment_status
    order.payment_status = PaymentStatus.COD_COLLECTED.value
    events.record(
        session, order.id, "cod_collected", source_of(update),
        amount_vnd=shipment.cod_collected_vnd, expected_vnd=shipment.cod_amount_vnd,
        waybill=update.waybill, **{"from": previous, "to": order.payment_status},
    )  # fmt: skip


def _set_fulfilment(
    session: AsyncSession, order: Order, target: FulfilmentStatus, source: str
) -> None:
    """Move fulfilment by the one rule (`status.move_fulfilment`); a refused move is a no-op."""
    assert order.id is not None
    previous = move_fulfilment(order, target)
    if previous is None:
        return
    events.record(
        session, order.id, "fulfilment_changed", source, **{"from": previous, "to": target.value}
    )
