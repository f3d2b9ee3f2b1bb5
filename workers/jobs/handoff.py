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

import asyncio
import logging
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from arq import Retry
from arq.constants import in_progress_key_prefix, job_key_prefix
from sqlalchemy import text, update
from sqlmodel import col

from api.core.clients import CarrierClients
from api.core.db import PhienSession
from api.core.jobs import Job
from api.core.queue import JobBuffer, PendingJob
from api.shipments.booking import build_booking_request
from api.shipments.handoff import (
    ToBook,
    record_attempt_failure,
    record_booking,
    record_refusal,
    take_for_booking,
    take_many_for_booking,
)
from api.shipments.models import Shipment
from api.shipments.outbox import (
    BEFORE_PICKUP,
    ShipmentBusy,
    handoff_job_id,
    lock_for_job,
    record_cancel_refused,
    record_cancelled,
    refusal_reason,
)
from integrations.carriers.base import (
    Booking,
    BookingRequest,
    Carrier,
    CarrierAuthError,
    CarrierError,
    DuplicateReference,
)
from workers.context import carriers_of, settings_of
from workers.heartbeat import ALIVE_PREFIX, heartbeat

log = logging.getLogger(__name__)

# Transient failures in a row before the shipment is shown to a person instead of retried.
MAX_ATTEMPTS = 40
SWEEP_LIMIT = 1000
RESCUE_BATCH = 50
# Read without locking: rows waiting in a queued batch are never touched by the sweeper.
_IDLE_ROWS = text(
    "SELECT id, handoff_job_id FROM shipments WHERE status = 'pending' AND waybill IS NULL"
    " AND booking_error IS NULL AND updated_at < now() - make_interval(secs => :age)"
    " ORDER BY id LIMIT :limit"
)
_LOCK_IDLE = text(
    "SELECT id FROM shipments WHERE id = ANY(CAST(:ids AS bigint[])) AND status = 'pending'"
    " AND waybill IS NULL AND booking_error IS NULL ORDER BY id FOR UPDATE SKIP LOCKED"
)
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


@dataclass
class _Attempt:
    """One call to the carrier: a booking (made or found), or why there is none."""

    booking: Booking | None = None
    found: bool = False
    refused: str | None = None  # the request itself breaks a carrier rule (COD cap, ...)
    error: CarrierError | None = None


async def _attempt(clients: CarrierClients, job: ToBook) -> _Attempt:
    """Build the request and book it once; never touches the database (runs side by side)."""
    try:
        request = build_booking_request(job.shipment, job.order, job.coop, job.lines)
        booking, found = await book_once(clients.get(job.shipment.carrier), request)
    except ValueError as exc:
        return _Attempt(refused=str(exc))
    except CarrierError as exc:
        return _Attempt(error=exc)
    return _Attempt(booking, found)


def _failed(session: PhienSession, job: ToBook, exc: CarrierError) -> str:
    """Record a failed attempt: "refused" (for a person), "gave_up" or "retry"."""
    extra = {"shipment_id": job.shipment.id, "carrier": job.shipment.carrier, "code": exc.code}
    if not _is_transient(exc):
        record_refusal(session, job, exc.message)
        log.warning("carrier refused the booking", extra={**extra, "error": exc.message})
        return "refused"
    give_up = job.shipment.booking_attempts + 1 >= MAX_ATTEMPTS
    record_attempt_failure(job, exc.message, give_up=give_up)
    log.warning("booking attempt failed", extra={**extra, "give_up": give_up})
    return "gave_up" if give_up else "retry"


async def _record(
    session: PhienSession, job: ToBook, attempt: _Attempt, clients: CarrierClients
) -> str:
    """Write what the attempt came to (the caller commits): booked, refused, gave_up, retry."""
    if attempt.refused is not None:
        record_refusal(session, job, attempt.refused)
        return "refused"
    if attempt.error is not None:
        return _failed(session, job, attempt.error)
    assert attempt.booking is not None
    shipment = job.shipment
    service = clients.configured_service(shipment.carrier)
    await record_booking(session, job, attempt.booking, adopted=attempt.found, service=service)
    log.info(
        "shipment booked",
        extra={"shipment_id": shipment.id, "waybill": attempt.booking.waybill,
               "found_existing": attempt.found},
    )  # fmt: skip
    return "booked"


async def _nothing_to_book(
    session: PhienSession, job: ToBook, clients: CarrierClients
) -> str | None:
    """Why this run must not call the carrier (recorded where needed), or None to go ahead."""
    shipment = job.shipment
    if shipment.status != "pending" or shipment.waybill is not None:
        return "already_booked"
    if shipment.booking_error is not None:
        return "needs_attention"  # a person retries it from the API
    if job.order.status == "cancelled":
        await record_cancelled(session, shipment, "order cancelled before the booking")
        return "cancelled"
    missing = clients.missing_config(shipment.carrier)
    if missing is not None:
        # No credentials (a dev or bench setup): say so now instead of retrying a login that
        # cannot succeed while holding the row.
        record_refusal(session, job, missing)
        return "refused"
    return None


async def hand_off_shipment(ctx: dict[str, Any], shipment_id: int) -> str:
    """Book one pending shipment with its carrier and hand the order off."""
    clients = carriers_of(ctx)
    async with heartbeat(ctx["redis"], ctx.get("job_id")), ctx["db"].session() as session:
        try:
            job = await take_for_booking(session, shipment_id)
        except ShipmentBusy:
            # Another runner (or a person's edit) holds the row: look again once it let go.
            raise Retry(defer=BUSY_DEFER_S) from None
        if job is None:
            return "missing"
        outcome = await _nothing_to_book(session, job, clients)
        if outcome is None:
            outcome = await _record(session, job, await _attempt(clients, job), clients)
        await session.commit()
    if outcome == "retry":
        raise Retry(defer=_backoff(ctx.get("job_try", 1)))
    return outcome


async def hand_off_shipments(ctx: dict[str, Any], shipment_ids: list[int]) -> dict[str, int]:
    """Book a batch of pending shipments (one outbox commit's): one lock, calls side by side.

    The rows stay locked (SKIP LOCKED) from the query to the commit, so no other runner books
    them meanwhile; each carrier call is the same `book_once` as the single job's, so a crash
    between the carrier's answer and our commit is adopted by the next attempt. Rows another
    runner holds, and transient failures, go to their own `hand_off_shipment` job (which
    retries with backoff); nothing is lost if this job dies, as the sweeper finds old rows.
    """
    clients = carriers_of(ctx)
    outcomes: Counter[str] = Counter()
    later: list[PendingJob] = []
    async with heartbeat(ctx["redis"], ctx.get("job_id")), ctx["db"].session() as session:
        jobs = await take_many_for_booking(session, shipment_ids)
        taken = {job.shipment.id for job in jobs}
        later += [
            PendingJob(Job.HAND_OFF_SHIPMENT, (i,), handoff_job_id(i), BUSY_DEFER_S)
            for i in shipment_ids
            if i not in taken
        ]
        ready: list[ToBook] = []
        for job in jobs:
            skipped = await _nothing_to_book(session, job, clients)
            if skipped is None:
                ready.append(job)
            else:
                outcomes[skipped] += 1
        attempts = await asyncio.gather(*(_attempt(clients, job) for job in ready))
        for job, attempt in zip(ready, attempts, strict=True):
            outcome = await _record(session, job, attempt, clients)
            outcomes[outcome] += 1
            if outcome == "retry":
                assert job.shipment.id is not None
                job_id = handoff_job_id(job.shipment.id)
                later.append(
                    PendingJob(Job.HAND_OFF_SHIPMENT, (job.shipment.id,), job_id, _backoff(1))
                )
        await session.commit()
    await JobBuffer(ctx["queue"], later).flush()
    return dict(outcomes)


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


def _waiting(queued: int, started: int, alive: int) -> bool:
    """A job that will still book the row: queued and not started yet, or running and alive."""
    return bool(queued) and (not started or bool(alive))


async def _stranded(ctx: dict[str, Any], rows: list[tuple[int, str | None]]) -> list[int]:
    """The idle rows no job will book: the ring was lost, or its worker died mid-run.

    A row is left alone while one of its jobs (its batch's, or its own) waits in the queue or
    runs with a heartbeat. A job arq marks in progress with no heartbeat is not running any
    more: its worker was most likely killed, and arq would not run it again before its mark
    expires (IN_PROGRESS_MARK_S); its heartbeat is gone within ALIVE_TTL_MS.
    """
    # Every job asked about once: a batch job stands for up to 50 rows.
    job_ids = sorted({handoff_job_id(i) for i, _ in rows} | {job for _, job in rows if job})
    pipe = ctx["redis"].pipeline(transaction=False)
    for job_id in job_ids:
        pipe.exists(job_key_prefix + job_id)
        pipe.exists(in_progress_key_prefix + job_id)
        pipe.exists(ALIVE_PREFIX + job_id)
    answers = iter(await pipe.execute())
    waiting = {job_id: _waiting(next(answers), next(answers), next(answers)) for job_id in job_ids}
    stranded: list[int] = []
    for shipment_id, batch_job in rows:
        if not (waiting[handoff_job_id(shipment_id)] or (batch_job and waiting[batch_job])):
            stranded.append(shipment_id)
    return stranded


async def sweep_shipments(ctx: dict[str, Any]) -> int:
    """Offer pending shipments nobody is booking (a lost ring, a dead worker) to the workers.

    Rescued rows go out in batch jobs of their own, and each row is re-tagged with its new job
    in the same transaction, so the next sweep sees them waiting and leaves them alone. A
    rescue is safe even if the first job was alive after all: row locks, the waybill check and
    our carrier reference keep every parcel booked once.
    """
    async with ctx["db"].session() as session:
        rows = await session.execute(
            _IDLE_ROWS, {"age": settings_of(ctx).shipment_sweep_after_seconds, "limit": SWEEP_LIMIT}
        )
        idle = [(int(shipment_id), job) for shipment_id, job in rows]
        candidates = await _stranded(ctx, idle) if idle else []
        # Of those, the ones no live runner holds right now (a job with a heartbeat that is
        # about to lock them is left out above); our locks go with the commit.
        stranded = (
            list((await session.execute(_LOCK_IDLE, {"ids": candidates})).scalars())
            if candidates
            else []
        )
        stamp = int(time.time())
        for start in range(0, len(stranded), RESCUE_BATCH):
            ids = stranded[start : start + RESCUE_BATCH]
            job_id = f"handoffs:rescue-{ids[0]}-{stamp}"
            await session.execute(
                update(Shipment).where(col(Shipment.id).in_(ids)).values(handoff_job_id=job_id)
            )
            session.enqueue_after_commit(Job.HAND_OFF_SHIPMENTS, ids, job_id=job_id)
        await session.commit()
    if stranded:
        log.info("shipment sweep", extra={"idle": len(idle), "rescued": len(stranded)})
    return len(stranded)
