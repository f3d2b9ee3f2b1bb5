"""Carrier hand-off jobs: book a pending shipment exactly once, and sweep stragglers.

Exactly once, although arq delivers at least once and carriers time out:
- a runner claims the row (a lease, committed before the call) and records the answer in a
  second transaction: no transaction is open during the carrier call, and nobody else calls
  the carrier about the row while the lease holds;
- a row with a waybill is never booked again;
- our reference is the carrier's unique key (Viettel Post CHECK_UNIQUE, GHN client_order_code):
  after a timeout or a duplicate refusal the job looks the reference up and adopts the booking
  the carrier already holds; when the lookup cannot say, the row awaits the carrier's
  confirmation (its webhook or a later lookup) instead of being called a refusal.
A batch ends by its deadline (inside the job timeout): rows still unanswered go to jobs of
their own, and every attempt was counted before its call, so MAX_ATTEMPTS is always reached.
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
from api.shipments.handoff import (
    MAX_ATTEMPTS,
    Claim,
    ClaimRound,
    claim_for_booking,
    record_attempt_failure,
    record_awaiting,
    record_booking,
    record_refusal,
)
from api.shipments.models import Shipment
from api.shipments.outbox import handoff_job_id
from integrations.carriers.base import (
    AwaitingConfirmation,
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

SWEEP_LIMIT = 1000
RESCUE_BATCH = 50
# A row awaiting the carrier's confirmation is tried again (a lookup, and a create the carrier
# refuses as a duplicate if it holds the parcel) this often by the sweeper; meanwhile its
# webhook, which carries our reference, usually settles it first (VTP-DOC §9.3's advice).
AWAITING_RECHECK_S = 300
# The lease outlives the job's deadline: a live runner always records before it lapses.
LEASE_MARGIN_S = 30.0
# Read without locking: rows waiting in a queued batch are never touched by the sweeper.
_IDLE_ROWS = text(
    "SELECT id, handoff_job_id FROM shipments WHERE status = 'pending' AND waybill IS NULL"
    " AND booking_error IS NULL AND updated_at < now() - make_interval(secs =>"
    " CASE WHEN awaiting_confirmation_since IS NULL THEN CAST(:age AS float8)"
    " ELSE CAST(:recheck AS float8) END)"
    " ORDER BY id LIMIT :limit"
)
_LOCK_IDLE = text(
    "SELECT id FROM shipments WHERE id = ANY(CAST(:ids AS bigint[])) AND status = 'pending'"
    " AND waybill IS NULL AND booking_error IS NULL ORDER BY id FOR UPDATE SKIP LOCKED"
)
BUSY_DEFER_S = 2.0


def backoff(job_try: int) -> float:
    """Seconds before retry number `job_try` of a carrier call."""
    return float(min(2**job_try, 60))


def _is_transient(exc: CarrierError) -> bool:
    # Refused credentials are an operator's fix, not the parcel's fault; an unreadable answer
    # may hide an accepted booking, which the next attempt adopts through the reference.
    return exc.transient or isinstance(exc, CarrierAuthError) or exc.code == "bad_response"


async def _look_up(carrier: Carrier, reference: str) -> Booking | None:
    """The carrier's booking for our reference; None when the lookup cannot say.

    Viettel Post's lookup is UNCONFIRMED (fact sheet §1.6): a missing route (404), an outage or
    a timeout all mean "unknown", never "not booked".
    """
    try:
        return await carrier.find_by_reference(reference)
    except CarrierError as exc:
        log.info("reference lookup unavailable", extra={"code": exc.code})
        return None


async def book_once(carrier: Carrier, request: BookingRequest) -> tuple[Booking, bool]:
    """Book, or find the booking the carrier already holds for our reference; (booking, found).

    Raises AwaitingConfirmation when the carrier may hold the booking but would not say which.
    """
    try:
        return await carrier.book(request), False
    except DuplicateReference as exc:
        found = await _look_up(carrier, request.reference)
        if found is None and exc.existing_waybill:
            found = Booking(carrier.name, request.reference, exc.existing_waybill, fee_vnd=0)
        if found is None:
            raise AwaitingConfirmation(
                f"{carrier.name} already holds {request.reference} but did not say which parcel"
            ) from exc
        return found, True
    except CarrierError as exc:
        if exc.code != "timeout":
            raise
        # The carrier may have accepted before we gave up: look before booking again.
        found = await _look_up(carrier, request.reference)
        if found is None:
            raise AwaitingConfirmation(
                f"{carrier.name} did not answer in time and its lookup could not say"
            ) from exc
        return found, True


@dataclass
class _Attempt:
    """One call to the carrier: a booking (made or found), or why there is none."""

    booking: Booking | None = None
    found: bool = False
    error: CarrierError | None = None


async def _attempt(clients: CarrierClients, claim: Claim) -> _Attempt:
    """Book one claimed row; never touches the database (runs side by side)."""
    try:
        booking, found = await book_once(clients.get(claim.carrier), claim.request)
    except CarrierError as exc:
        return _Attempt(error=exc)
    except Exception as exc:  # one parcel's surprise must not lose its neighbours' answers
        log.exception("booking call failed", extra={"shipment_id": claim.shipment_id})
        return _Attempt(error=CarrierError(f"{type(exc).__name__}: {exc}", "unexpected", True))
    return _Attempt(booking, found)


_UNANSWERED = _Attempt(
    error=CarrierError("no answer before the job's deadline", "deadline", transient=True)
)


async def _call_all(
    clients: CarrierClients, claims: list[Claim], budget_s: float
) -> list[_Attempt]:
    """Every claim's carrier call side by side; those unanswered within the budget are cut."""
    tasks = [asyncio.create_task(_attempt(clients, claim)) for claim in claims]
    if not tasks:
        return []
    _, late = await asyncio.wait(tasks, timeout=max(budget_s, 0.0))
    for task in late:
        task.cancel()
    if late:
        await asyncio.wait(late)
    return [_UNANSWERED if task.cancelled() else task.result() for task in tasks]


async def _record(
    session: PhienSession, claim: Claim, attempt: _Attempt, clients: CarrierClients
) -> str:
    """Write what the attempt came to (the caller commits): booked, refused, awaiting, ..."""
    extra = {"shipment_id": claim.shipment_id, "carrier": claim.carrier}
    exc = attempt.error
    if exc is None:
        assert attempt.booking is not None
        service = clients.configured_service(claim.carrier)
        await record_booking(
            session, claim, attempt.booking, adopted=attempt.found, service=service
        )
        log.info("shipment booked", extra={**extra, "found_existing": attempt.found})
        return "booked"
    if isinstance(exc, AwaitingConfirmation):
        await record_awaiting(session, claim, exc.message)
        log.warning("booking awaits the carrier's confirmation", extra=extra)
        return "awaiting"
    if not _is_transient(exc):
        await record_refusal(session, claim, exc.message)
        log.warning("carrier refused the booking", extra={**extra, "error": exc.message})
        return "refused"
    give_up = claim.attempt >= MAX_ATTEMPTS
    await record_attempt_failure(session, claim, exc.message, give_up=give_up)
    log.warning("booking attempt failed", extra={**extra, "code": exc.code, "give_up": give_up})
    return "gave_up" if give_up else "retry"


async def _book_round(
    ctx: dict[str, Any], shipment_ids: list[int]
) -> tuple[ClaimRound, Counter[str], list[int]]:
    """Claim and commit, call the carriers, record and commit: (claims, outcomes, to retry)."""
    clients, settings = carriers_of(ctx), settings_of(ctx)
    started = time.monotonic()
    deadline = settings.handoff_deadline_s
    async with ctx["db"].session() as session:
        claimed = await claim_for_booking(
            session, shipment_ids, job_id=ctx.get("job_id"),
            lease_s=deadline + LEASE_MARGIN_S, max_attempts=MAX_ATTEMPTS,
            missing_config=clients.missing_config,
        )  # fmt: skip
        await session.commit()
    attempts = await _call_all(clients, claimed.claims, deadline - (time.monotonic() - started))
    outcomes = Counter(claimed.outcomes)
    again: list[int] = []
    async with ctx["db"].session() as session:
        for claim, attempt in zip(claimed.claims, attempts, strict=True):
            outcome = await _record(session, claim, attempt, clients)
            outcomes[outcome] += 1
            if outcome == "retry":
                again.append(claim.shipment_id)
        await session.commit()
    return claimed, outcomes, again


async def hand_off_shipment(ctx: dict[str, Any], shipment_id: int) -> str:
    """Book one pending shipment with its carrier and hand the order off."""
    async with heartbeat(ctx["redis"], ctx.get("job_id")):
        claimed, outcomes, again = await _book_round(ctx, [shipment_id])
    if claimed.busy:
        # Another runner holds the row (or is calling the carrier about it): look again later.
        raise Retry(defer=BUSY_DEFER_S)
    if again:
        raise Retry(defer=backoff(ctx.get("job_try", 1)))
    return next(iter(outcomes), "missing")


async def hand_off_shipments(ctx: dict[str, Any], shipment_ids: list[int]) -> dict[str, int]:
    """Book a batch of pending shipments (one outbox commit's): one claim, calls side by side.

    One claim commit and one record commit per batch; the calls run with no transaction open
    and end by the deadline. Rows another runner holds, transient failures and unanswered calls
    go to their own `hand_off_shipment` job (which retries with backoff); bookings awaiting the
    carrier's word wait for its webhook or the sweeper's slower recheck; nothing is lost if this
    job dies, as the sweeper finds idle rows.
    """
    async with heartbeat(ctx["redis"], ctx.get("job_id")):
        claimed, outcomes, again = await _book_round(ctx, shipment_ids)
    later = [
        PendingJob(Job.HAND_OFF_SHIPMENT, (i,), handoff_job_id(i), BUSY_DEFER_S)
        for i in claimed.busy
    ] + [PendingJob(Job.HAND_OFF_SHIPMENT, (i,), handoff_job_id(i), backoff(1)) for i in again]
    await JobBuffer(ctx["queue"], later).flush()
    return dict(outcomes)


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
        age = settings_of(ctx).shipment_sweep_after_seconds
        rows = await session.execute(
            _IDLE_ROWS, {"age": age, "recheck": AWAITING_RECHECK_S, "limit": SWEEP_LIMIT}
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
                update(Shipment)
                .where(col(Shipment.id).in_(ids))
                # Its runner is gone: the lease it left would only keep the rescue waiting.
                .values(handoff_job_id=job_id, carrier_call_until=None)
            )
            session.enqueue_after_commit(Job.HAND_OFF_SHIPMENTS, ids, job_id=job_id)
        await session.commit()
    if stranded:
        log.info("shipment sweep", extra={"idle": len(idle), "rescued": len(stranded)})
    return len(stranded)
