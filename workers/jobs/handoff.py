"""Carrier hand-off jobs: book a pending shipment exactly once, cancel one, sweep stragglers.

Exactly once, although arq delivers at least once and carriers time out:
- the shipment row stays locked (FOR UPDATE SKIP LOCKED) for the whole carrier call, so two
  runners never book the same parcel at once; the second one retries and finds it booked;
- a row with a waybill is never booked again;
- our reference is the carrier's unique key (Viettel Post CHECK_UNIQUE, GHN client_order_code):
  after a timeout or a duplicate refusal the job looks the reference up and adopts the booking
  the carrier already holds instead of making a second one.
"""

from __future__ import annotations

import logging
from typing import Any

from arq import Retry
from arq.constants import in_progress_key_prefix, job_key_prefix
from sqlalchemy import text

from api.core.db import PhienSession
from api.shipments.booking import build_booking_request
from api.shipments.outbox import (
    BEFORE_PICKUP,
    HANDOFF_JOB,
    ShipmentBusy,
    handoff_job_id,
    lock_for_job,
    record_cancel_refused,
    record_cancelled,
    refusal_reason,
)
from api.shipments.service import (
    ToBook,
    record_attempt_failure,
    record_booking,
    record_refusal,
    take_for_booking,
)
from integrations.carriers.base import (
    Booking,
    BookingRequest,
    Carrier,
    CarrierAuthError,
    CarrierError,
    DuplicateReference,
)
from workers.jobs.carrier_clients import CarrierClients, carriers_of
from workers.jobs.platform_orders import settings_of
from workers.queue import JobBuffer, PendingJob

log = logging.getLogger(__name__)

# Transient failures in a row before the shipment is shown to a person instead of retried.
MAX_ATTEMPTS = 40
SWEEP_LIMIT = 1000
BUSY_DEFER_S = 2.0


def _backoff(job_try: int) -> float:
    return float(min(2**job_try, 60))


def _is_transient(exc: CarrierError) -> bool:
    # Refused credentials are an operator's fix, not the parcel's fault; an unreadable answer
    # may hide an accepted booking, which the next attempt adopts through the reference.
    return exc.transient or isinstance(exc, CarrierAuthError) or exc.code == "bad_response"


async def _adopt(carrier: Carrier, reference: str, waybill: str | None) -> Booking | None:
    found = await carrier.find_by_reference(reference)
    if found is None and waybill:
        found = Booking(carrier=carrier.name, reference=reference, waybill=waybill, fee_vnd=0)
    return found


async def book_once(carrier: Carrier, request: BookingRequest) -> tuple[Booking, bool]:
    """Book, or find the booking the carrier already holds for our reference; (booking, found)."""
    try:
        return await carrier.book(request), False
    except DuplicateReference as exc:
        found = await _adopt(carrier, request.reference, exc.existing_waybill)
        if found is None:
            raise CarrierError(
                f"{carrier.name} holds {request.reference} but its lookup found nothing",
                "lookup_missing",
                transient=True,
            ) from exc
        return found, True
    except CarrierError as exc:
        if exc.code != "timeout":
            raise
        # The carrier may have accepted before we gave up: look before booking again.
        found = await carrier.find_by_reference(request.reference)
        if found is None:
            raise
        return found, True


async def _failed(
    ctx: dict[str, Any], session: PhienSession, job: ToBook, exc: CarrierError
) -> str:
    extra = {"shipment_id": job.shipment.id, "carrier": job.shipment.carrier, "code": exc.code}
    if not _is_transient(exc):
        record_refusal(session, job, exc.message)
        await session.commit()
        log.warning("carrier refused the booking", extra={**extra, "error": exc.message})
        return "refused"
    give_up = job.shipment.booking_attempts + 1 >= MAX_ATTEMPTS
    record_attempt_failure(job, exc.message, give_up=give_up)
    await session.commit()
    log.warning("booking attempt failed", extra={**extra, "give_up": give_up})
    if give_up:
        return "gave_up"
    raise Retry(defer=_backoff(ctx.get("job_try", 1))) from exc


async def _nothing_to_book(
    session: PhienSession, job: ToBook, clients: CarrierClients
) -> str | None:
    """Why this run must not call the carrier (settled where needed), or None to go ahead."""
    shipment = job.shipment
    if shipment.status != "pending" or shipment.waybill is not None:
        return "already_booked"
    if shipment.booking_error is not None:
        return "needs_attention"  # a person retries it from the API
    if job.order.status == "cancelled":
        await record_cancelled(session, shipment, "order cancelled before the booking")
        await session.commit()
        return "cancelled"
    missing = clients.missing_config(shipment.carrier)
    if missing is not None:
        # No credentials (a dev or bench setup): say so now instead of retrying a login that
        # cannot succeed while holding the row.
        record_refusal(session, job, missing)
        await session.commit()
        return "refused"
    return None


async def hand_off_shipment(ctx: dict[str, Any], shipment_id: int) -> str:
    """Book one pending shipment with its carrier and hand the order off."""
    clients = carriers_of(ctx)
    async with ctx["db"].session() as session:
        try:
            job = await take_for_booking(session, shipment_id)
        except ShipmentBusy:
            # Another runner (or a person's edit) holds the row: look again once it let go.
            raise Retry(defer=BUSY_DEFER_S) from None
        if job is None:
            return "missing"
        skipped = await _nothing_to_book(session, job, clients)
        if skipped is not None:
            return skipped
        shipment = job.shipment
        try:
            request = build_booking_request(shipment, job.order, job.coop, job.lines)
            booking, found = await book_once(clients.get(shipment.carrier), request)
        except ValueError as exc:  # the request itself breaks a carrier rule (COD cap, ...)
            record_refusal(session, job, str(exc))
            await session.commit()
            return "refused"
        except CarrierError as exc:
            return await _failed(ctx, session, job, exc)
        service = clients.configured_service(shipment.carrier)
        await record_booking(session, job, booking, adopted=found, service=service)
        await session.commit()
    log.info(
        "shipment booked",
        extra={"shipment_id": shipment_id, "waybill": booking.waybill, "found_existing": found},
    )
    return "booked"


async def cancel_shipment(ctx: dict[str, Any], shipment_id: int) -> str:
    """Cancel one shipment: in place if unbooked, at the carrier before pickup, else refused."""
    async with ctx["db"].session() as session:
        try:
            shipment = await lock_for_job(session, shipment_id)
        except ShipmentBusy:
            raise Retry(defer=BUSY_DEFER_S) from None  # a booking in flight: cancel after it
        if shipment is None or shipment.status == "cancelled":
            return "nothing_to_do"
        if shipment.waybill is None and shipment.status == "pending":
            await record_cancelled(session, shipment, "cancelled before the carrier booking")
            await session.commit()
            return "cancelled"
        if shipment.status not in BEFORE_PICKUP or shipment.waybill is None:
            record_cancel_refused(session, shipment, refusal_reason(shipment))
            await session.commit()
            return "refused"
        try:
            await carriers_of(ctx).get(shipment.carrier).cancel(shipment.waybill)
        except CarrierError as exc:
            if exc.transient:
                raise Retry(defer=_backoff(ctx.get("job_try", 1))) from exc
            record_cancel_refused(session, shipment, f"carrier refused to cancel: {exc.message}")
            await session.commit()
            return "refused"
        await record_cancelled(session, shipment, "cancelled at the carrier before pickup")
        await session.commit()
    return "cancelled"


async def _to_rescue(ctx: dict[str, Any], ids: list[int]) -> list[PendingJob]:
    """Jobs for rows whose hand-off was lost (no job) or stranded by a killed worker."""
    pipe = ctx["redis"].pipeline(transaction=False)
    for shipment_id in ids:
        pipe.exists(job_key_prefix + handoff_job_id(shipment_id))
        pipe.exists(in_progress_key_prefix + handoff_job_id(shipment_id))
    flags = await pipe.execute()
    jobs: list[PendingJob] = []
    for n, shipment_id in enumerate(ids):
        queued, running = flags[2 * n], flags[2 * n + 1]
        if not queued:
            jobs.append(PendingJob(HANDOFF_JOB, (shipment_id,), handoff_job_id(shipment_id)))
        elif running:
            # "Running" yet the row is old and unbooked: its worker was most likely killed, and
            # arq would wait out job_timeout before running it again. A second job under its own
            # id is safe: the row lock and the waybill check make a live runner's twin a no-op.
            rescue_id = f"{handoff_job_id(shipment_id)}:rescue"
            jobs.append(PendingJob(HANDOFF_JOB, (shipment_id,), rescue_id))
    return jobs


async def sweep_shipments(ctx: dict[str, Any]) -> int:
    """Offer pending, unbooked, unrefused shipments nobody touched for a while to the workers."""
    async with ctx["db"].session() as session:
        rows = await session.execute(
            text(
                "SELECT id FROM shipments WHERE status = 'pending' AND waybill IS NULL"
                " AND booking_error IS NULL"
                " AND updated_at < now() - make_interval(secs => :age)"
                " ORDER BY id LIMIT :limit"
            ),
            {"age": settings_of(ctx).shipment_sweep_after_seconds, "limit": SWEEP_LIMIT},
        )
        ids = [int(i) for i in rows.scalars()]
    if not ids:
        return 0
    jobs = await _to_rescue(ctx, ids)
    sent = await JobBuffer(ctx["queue"], jobs).flush()
    if jobs:
        log.info("shipment sweep", extra={"found": len(ids), "offered": len(jobs), "sent": sent})
    return len(jobs)
