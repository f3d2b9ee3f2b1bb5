"""The hand-off job's side of a shipment: take pending rows for booking, record what happened.

The job (`workers/jobs/handoff.py`) calls the carrier between `take_*` and `record_*`; the
request it sends is built by `api/shipments/booking.py`. Services never commit: the job owns the
transaction. Every write takes the shipment row first (the outbox module explains the lock order).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import JSONB, aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.catalogue.models import Variant
from api.cooperatives.models import Cooperative
from api.orders import events
from api.orders.models import FulfilmentStatus, Order, OrderLine
from api.orders.status import fulfilment_sources
from api.shipments.booking import LineToShip
from api.shipments.models import Shipment
from api.shipments.outbox import (
    ShipmentBusy,
    row_exists,
)
from integrations.carriers.base import Booking


@dataclass
class ToBook:
    """A locked pending shipment with everything its carrier request is built from."""

    shipment: Shipment
    order: Order
    coop: Cooperative
    lines: list[LineToShip]


# --- the hand-off job's side -------------------------------------------------------------


def _lines_json() -> Any:
    # The lines travel with the locked row in one round trip (the hand-off's hot path).
    line = func.json_build_array(
        col(OrderLine.name),
        col(OrderLine.quantity),
        col(OrderLine.unit_price_vnd),
        func.coalesce(col(Variant.shipping_weight_g), 0),
    )
    return (
        select(func.json_agg(aggregate_order_by(line, col(OrderLine.id))))
        .select_from(OrderLine)
        .outerjoin(Variant, col(Variant.id) == col(OrderLine.variant_id))
        .where(col(OrderLine.order_id) == col(Shipment.order_id))
        .scalar_subquery()
        .cast(JSONB)
    )


def _booking_rows() -> Any:
    return (
        select(Shipment, Order, Cooperative, _lines_json())
        .join(Order, col(Order.id) == col(Shipment.order_id))
        .join(Cooperative, col(Cooperative.id) == col(Shipment.cooperative_id))
    )


def _to_book(row: Any) -> ToBook:
    shipment, order, coop, lines = row
    return ToBook(shipment, order, coop, [LineToShip(*line) for line in lines or ()])


async def take_for_booking(session: AsyncSession, shipment_id: int) -> ToBook | None:
    """Lock the shipment (SKIP LOCKED) with order, cooperative and lines; ShipmentBusy if held."""
    row = (
        await session.execute(
            _booking_rows()
            .where(col(Shipment.id) == shipment_id)
            .with_for_update(of=Shipment, skip_locked=True)
        )
    ).one_or_none()
    if row is None:
        if await row_exists(session, shipment_id):
            raise ShipmentBusy(str(shipment_id))
        return None
    return _to_book(row)


async def take_many_for_booking(session: AsyncSession, shipment_ids: list[int]) -> list[ToBook]:
    """Lock those of the shipments nobody else holds (SKIP LOCKED), in id order, in one query."""
    rows = await session.execute(
        _booking_rows()
        .where(col(Shipment.id).in_(shipment_ids))
        .order_by(col(Shipment.id))
        .with_for_update(of=Shipment, skip_locked=True)
    )
    return [_to_book(row) for row in rows]


def _service_of(booking: Booking, configured: str | None) -> str | None:
    for key in ("ORDER_SERVICE", "service_id", "service_type_id"):
        if booking.raw.get(key):
            return str(booking.raw[key])[:32]
    return configured


# One round trip: the shipment is booked, the order handed off (only from where the fulfilment
# rule allows it, pending_shipment: a cancellation that got there first wins) and the order's
# trail says so.
_HANDOFF_FROM = fulfilment_sources(FulfilmentStatus.HANDED_OFF)
_RECORD_BOOKING = text(
    """
    WITH s AS (
        UPDATE shipments SET waybill = :waybill, fee_vnd = :fee, sort_code = :sort_code,
            service_code = :service, status = 'handed_off', status_reason = NULL,
            booked_at = now(), status_at = now(), updated_at = now(),
            booking_attempts = booking_attempts + 1
        WHERE id = :id AND waybill IS NULL
        RETURNING order_id
    ), o AS (
        UPDATE orders SET fulfilment_status = 'handed_off', updated_at = now()
        WHERE id IN (SELECT order_id FROM s)
          AND fulfilment_status = ANY(CAST(:handoff_from AS text[]))
    )
    INSERT INTO order_events (order_id, kind, source, detail)
    SELECT order_id, 'handed_off', 'handoff', CAST(:detail AS jsonb) FROM s
    """
)


async def record_booking(
    session: AsyncSession, job: ToBook, booking: Booking, *, adopted: bool, service: str | None
) -> None:
    """Store the carrier's waybill, fee and sort code; the order is handed off."""
    shipment = job.shipment
    detail = {
        "shipment_id": shipment.id,
        "carrier": shipment.carrier,
        "waybill": booking.waybill,
        "fee_vnd": booking.fee_vnd,
        "found_existing_booking": adopted,
    }
    await session.execute(
        _RECORD_BOOKING,
        {
            "id": shipment.id,
            "waybill": booking.waybill,
            "fee": booking.fee_vnd,
            "sort_code": booking.sort_code,
            "service": _service_of(booking, service),
            "detail": orjson.dumps(detail).decode(),
            "handoff_from": _HANDOFF_FROM,
        },
    )


def record_attempt_failure(job: ToBook, error: str, *, give_up: bool) -> None:
    """A transient failure: counted, shown to logistics, retried unless we give up."""
    shipment = job.shipment
    shipment.booking_attempts += 1
    attempts = shipment.booking_attempts
    if give_up:
        shipment.booking_error = f"gave up after {attempts} attempts: {error}"[:1000]
    else:
        shipment.status_reason = f"booking attempt {attempts} failed, retrying: {error}"[:500]


def record_refusal(session: AsyncSession, job: ToBook, message: str) -> None:
    """The carrier refused for good (bad address, no route): logistics must fix and retry."""
    shipment = job.shipment
    shipment.booking_attempts += 1
    shipment.booking_error = message[:1000]
    shipment.status_reason = None
    assert job.order.id is not None
    events.record(
        session, job.order.id, "shipment_booking_refused", "handoff",
        shipment_id=shipment.id, carrier=shipment.carrier, error=message[:500],
    )  # fmt: skip
