"""The hand-off job's side of a shipment: claim rows for a carrier call, then record what happened.

No transaction stays open across a carrier call. The job (`workers/jobs/handoff.py`) claims the
rows and commits (each claim counts its attempt and takes a lease, `carrier_call_until`), calls
the carrier with no session open, then records each answer in a second short transaction. What
crosses between the two is plain data (`Claim`), never an ORM object. A runner that dies between
claim and record leaves its attempt counted; the lease keeps others off until the sweeper sees
the runner is gone, and our carrier reference keeps a second call from booking a second parcel.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import JSONB, aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.batches.membership import follow
from api.catalogue.models import Variant
from api.cooperatives.models import Cooperative
from api.core.db import utcnow
from api.orders import events
from api.orders.models import FulfilmentStatus, Order, OrderLine
from api.orders.status import fulfilment_sources
from api.shipments.booking import LineToShip, build_booking_request
from api.shipments.cancel import record_cancelled
from api.shipments.models import Shipment
from integrations.carriers.base import Booking, BookingRequest

# Attempts (each counted before its call) before the shipment is shown to a person.
MAX_ATTEMPTS = 40


@dataclass(frozen=True)
class Claim:
    """One shipment claimed for one carrier call: plain data, safe to carry across sessions."""

    shipment_id: int
    order_id: int
    carrier: str
    reference: str
    attempt: int
    request: BookingRequest


@dataclass
class ClaimRound:
    """What a claim pass came to: the claims, rows held by another runner, the rest's outcomes."""

    claims: list[Claim] = field(default_factory=list)
    busy: list[int] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)


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


def _booking_rows(shipment_ids: list[int]) -> Any:
    # SKIP LOCKED: a row another transaction holds right now is another runner's (its own job
    # looks again); the lock lasts only until this claim commits.
    return (
        select(Shipment, Order, Cooperative, _lines_json())
        .join(Order, col(Order.id) == col(Shipment.order_id))
        .join(Cooperative, col(Cooperative.id) == col(Shipment.cooperative_id))
        .where(col(Shipment.id).in_(shipment_ids))
        .order_by(col(Shipment.id))
        .with_for_update(of=Shipment, skip_locked=True)
    )


# One statement for the whole batch. updated_at is left alone on purpose: the sweeper judges
# idleness by it, and a claimed row whose runner died (no heartbeat) is rescued at once.
_CLAIM = text(
    """
    UPDATE shipments SET booking_attempts = booking_attempts + 1, carrier_call_until = :until,
        handoff_job_id = coalesce(CAST(:job AS text), handoff_job_id)
    WHERE id = ANY(CAST(:ids AS bigint[]))
    """
)


def _in_call(shipment: Shipment, now: datetime) -> bool:
    return shipment.carrier_call_until is not None and shipment.carrier_call_until > now


def _settled_already(shipment: Shipment) -> str | None:
    if shipment.status != "pending" or shipment.waybill is not None:
        return "already_booked"
    if shipment.booking_error is not None:
        return "needs_attention"  # a person retries it from the API
    return None


async def _settled_without_call(
    session: AsyncSession,
    shipment: Shipment,
    order: Order,
    missing_config: Callable[[str], str | None],
    max_attempts: int,
) -> str | None:
    """Why this row needs no carrier call (recorded where needed), or None to go ahead."""
    if order.status == "cancelled":
        await record_cancelled(session, shipment, "order cancelled before the booking")
        return "cancelled"
    missing = missing_config(shipment.carrier)
    if missing is not None:
        # No credentials (a dev or bench setup): say so now instead of retrying a login.
        _refuse(session, shipment, missing)
        return "refused"
    if shipment.booking_attempts >= max_attempts and shipment.awaiting_confirmation_since is None:
        # Every attempt was counted before its call, so killed and timed-out runs count too.
        last = shipment.status_reason or "no answer was recorded"
        shipment.booking_error = f"gave up after {shipment.booking_attempts} attempts: {last}"
        shipment.booking_error = shipment.booking_error[:1000]
        return "gave_up"
    return None


def _refuse(session: AsyncSession, shipment: Shipment, message: str) -> None:
    shipment.booking_error = message[:1000]
    shipment.status_reason = None
    events.record(
        session, shipment.order_id, "shipment_booking_refused", "handoff",
        shipment_id=shipment.id, carrier=shipment.carrier, error=message[:500],
    )  # fmt: skip


async def claim_for_booking(
    session: AsyncSession,
    shipment_ids: list[int],
    *,
    job_id: str | None,
    lease_s: float,
    max_attempts: int,
    missing_config: Callable[[str], str | None],
) -> ClaimRound:
    """Claim the rows nobody else holds for one carrier call each; the caller commits."""
    found = ClaimRound()
    now = utcnow()
    taken: set[int] = set()
    for shipment, order, coop, lines in await session.execute(_booking_rows(shipment_ids)):
        assert shipment.id is not None
        taken.add(shipment.id)
        outcome = _settled_already(shipment)
        if outcome is None and _in_call(shipment, now):
            found.busy.append(shipment.id)
            continue
        if outcome is None:
            outcome = await _settled_without_call(
                session, shipment, order, missing_config, max_attempts
            )
        if outcome is None:
            to_ship = [LineToShip(*line) for line in lines or ()]
            try:
                request = build_booking_request(shipment, order, coop, to_ship)
            except ValueError as exc:
                _refuse(session, shipment, str(exc))
                outcome = "refused"
        if outcome is not None:
            found.outcomes[outcome] += 1
            continue
        claim = Claim(
            shipment.id,
            shipment.order_id,
            shipment.carrier,
            shipment.reference,
            shipment.booking_attempts + 1,
            request,
        )
        found.claims.append(claim)
    if found.claims:
        until = now + timedelta(seconds=lease_s)
        ids = [claim.shipment_id for claim in found.claims]
        await session.execute(_CLAIM, {"ids": ids, "until": until, "job": job_id})
    held = [i for i in shipment_ids if i not in taken]
    if held:
        # Not returned: locked by another transaction, or not there at all.
        existing = await session.execute(select(col(Shipment.id)).where(col(Shipment.id).in_(held)))
        found.busy += sorted(int(i) for i in existing.scalars() if i is not None)
        found.outcomes["missing"] += len(held) - len(found.busy)
    await session.flush()
    return found


def _service_of(booking: Booking, configured: str | None) -> str | None:
    for key in ("ORDER_SERVICE", "service_id", "service_type_id"):
        if booking.raw.get(key):
            return str(booking.raw[key])[:32]
    return configured


# One round trip: the shipment is booked, the order handed off (only from where the fulfilment
# rule allows it, pending_shipment: a cancellation that got there first wins) and the order's
# trail says so. The attempt was counted by the claim.
_HANDOFF_FROM = fulfilment_sources(
    FulfilmentStatus.HANDED_OFF, among=(FulfilmentStatus.PENDING_SHIPMENT.value,)
)
_RECORD_BOOKING = text(
    """
    WITH s AS (
        UPDATE shipments SET waybill = :waybill, fee_vnd = :fee, sort_code = :sort_code,
            service_code = :service, status_reason = NULL,
            -- cancelled here while the call was out: the waybill is kept for a person
            status = CASE WHEN status = 'pending' THEN 'handed_off' ELSE status END,
            booked_at = now(), status_at = now(), updated_at = now(),
            carrier_call_until = NULL, awaiting_confirmation_since = NULL
        WHERE id = :id AND waybill IS NULL
          -- a waybill another of our shipments holds is not taken (the carrier re-issued it)
          AND NOT EXISTS (SELECT 1 FROM shipments h
                          WHERE h.carrier = shipments.carrier AND h.waybill = :waybill)
        RETURNING order_id
    ), o AS (
        UPDATE orders SET fulfilment_status = 'handed_off', updated_at = now()
        WHERE id IN (SELECT order_id FROM s)
          AND fulfilment_status = ANY(CAST(:handoff_from AS text[]))
    )
    INSERT INTO order_events (order_id, kind, source, detail)
    SELECT order_id, 'handed_off', 'handoff', CAST(:detail AS jsonb) FROM s
    RETURNING order_id
    """
)
_WAYBILL_HOLDER = text("SELECT id FROM shipments WHERE carrier = :carrier AND waybill = :waybill")


async def record_booking(
    session: AsyncSession, claim: Claim, booking: Booking, *, adopted: bool, service: str | None
) -> None:
    """Store the carrier's waybill, fee and sort code; the order is handed off."""
    detail = {
        "shipment_id": claim.shipment_id,
        "carrier": claim.carrier,
        "waybill": booking.waybill,
        "fee_vnd": booking.fee_vnd,
        "found_existing_booking": adopted,
    }
    params = {
        "id": claim.shipment_id,
        "waybill": booking.waybill,
        "fee": booking.fee_vnd,
        "sort_code": booking.sort_code,
        "service": _service_of(booking, service),
        "detail": orjson.dumps(detail).decode(),
        "handoff_from": _HANDOFF_FROM,
    }
    if (await session.execute(_RECORD_BOOKING, params)).first() is None:
        # Not recorded: settled meanwhile (a webhook, a rescued runner), or - rarely - the carrier
        # re-issued a waybill another of our shipments holds (a carrier-side reset, a simulator
        # restarted over a kept database): that parcel is parked for a person, not retried.
        holder = (
            await session.execute(
                _WAYBILL_HOLDER, {"carrier": claim.carrier, "waybill": booking.waybill}
            )
        ).scalar()
        if holder is not None and holder != claim.shipment_id:
            await record_refusal(
                session,
                claim,
                f"{claim.carrier} answered waybill {booking.waybill}, which our shipment "
                f"{holder} already holds: check with the carrier before booking again",
            )
        return
    # A re-booking of an order whose parcel left a batch joins its carrier's open batch.
    await follow(session, claim.shipment_id, source="job")


# Every answer other than a booking is written only while the row is still unbooked (a webhook
# or a rescued runner may have settled it meanwhile), and lets go of the claim.
_RECORD_UNBOOKED = text(
    """
    UPDATE shipments SET status_reason = :reason, booking_error = :error,
        awaiting_confirmation_since = CASE WHEN :awaiting
            THEN coalesce(awaiting_confirmation_since, now()) ELSE NULL END,
        carrier_call_until = NULL, updated_at = now()
    WHERE id = :id AND waybill IS NULL
    RETURNING id
    """
)


async def _record_unbooked(
    session: AsyncSession, claim: Claim, *, reason: str | None, error: str | None, awaiting: bool
) -> bool:
    params = {
        "id": claim.shipment_id,
        "reason": reason[:500] if reason else None,
        "error": error[:1000] if error else None,
        "awaiting": awaiting,
    }
    return (await session.execute(_RECORD_UNBOOKED, params)).scalar() is not None


async def record_attempt_failure(
    session: AsyncSession, claim: Claim, error: str, *, give_up: bool
) -> None:
    """A transient failure: shown to logistics, retried unless we give up."""
    if give_up:
        message = f"gave up after {claim.attempt} attempts: {error}"
        await _record_unbooked(session, claim, reason=None, error=message, awaiting=False)
    else:
        reason = f"booking attempt {claim.attempt} failed, retrying: {error}"
        await _record_unbooked(session, claim, reason=reason, error=None, awaiting=False)


async def record_awaiting(session: AsyncSession, claim: Claim, message: str) -> None:
    """The carrier may hold the parcel: wait for its webhook or a later lookup, not a person."""
    reason = f"awaiting the carrier's confirmation (attempt {claim.attempt}): {message}"
    await _record_unbooked(session, claim, reason=reason, error=None, awaiting=True)


async def record_refusal(session: AsyncSession, claim: Claim, message: str) -> None:
    """The carrier refused for good (bad address, no route): logistics must fix and retry."""
    if await _record_unbooked(session, claim, reason=None, error=message, awaiting=False):
        events.record(
            session, claim.order_id, "shipment_booking_refused", "handoff",
            shipment_id=claim.shipment_id, carrier=claim.carrier, error=message[:500],
        )  # fmt: skip
