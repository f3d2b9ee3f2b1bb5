"""Carrier tracking: one stored carrier push (an inbox row) applied to its shipments.

A push is stored once however many updates it carries (Viettel Post may send several `DATA`
items), and one job applies them all, in the order sent.

Safe to run twice: the inbox row is taken FOR UPDATE SKIP LOCKED (a second runner walks away), a
handled row is never handled again, and the shipment event is unique per (carrier, event key).
A failure leaves the row unhandled with a retry_after; arq retries soon, the sweeper later; a row
that fails again and again is parked for a person (`attempts.py`).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from typing import Any

from arq import Retry
from sqlalchemy import select
from sqlmodel import col

from api.core.db import PhienSession
from api.shipments.tracking import apply_tracking, find_shipment, record_unknown
from api.webhooks.models import InboundEvent
from integrations.carriers import ghn, viettel_post
from integrations.carriers.base import TrackingUpdate, WebhookPayloadError
from workers.jobs.attempts import record_done, record_failure, retry_delay

log = logging.getLogger(__name__)

PARSERS: dict[str, Callable[[bytes], list[TrackingUpdate]]] = {
    "viettel_post": viettel_post.parse_webhook,
    "ghn": ghn.parse_webhook,
}


async def _take(session: PhienSession, event_id: int) -> InboundEvent | None:
    row = await session.execute(
        select(InboundEvent)
        .where(
            col(InboundEvent.id) == event_id,
            col(InboundEvent.handled_at).is_(None),
            col(InboundEvent.parked_at).is_(None),
        )
        .with_for_update(skip_locked=True)
    )
    return row.scalar_one_or_none()


def parse_stored(event: InboundEvent) -> list[TrackingUpdate] | None:
    """The updates this row was stored for (parsed again: the inbox keeps bytes), or None."""
    parse = PARSERS.get(event.source)
    if parse is None:
        return None
    try:
        updates = parse(event.raw_body)
    except WebhookPayloadError:
        return None
    # Rows stored before a push became one row hold one DATA item each, under that item's key.
    mine = [u for u in updates if u.event_key[:255] == event.event_key]
    return mine if len(mine) == 1 and len(updates) > 1 else updates


async def _apply(session: PhienSession, tracking: TrackingUpdate) -> str:
    shipment = await find_shipment(session, tracking)
    if shipment is None:
        await record_unknown(session, tracking)
        return "unknown_waybill"
    return (await apply_tracking(session, shipment, tracking)).value


async def _handle(session: PhienSession, event: InboundEvent) -> str:
    updates = parse_stored(event)
    if not updates:
        return "unparseable"
    outcomes = [await _apply(session, tracking) for tracking in updates]
    if len(outcomes) == 1:
        return outcomes[0]
    counted = Counter(outcomes)
    return ",".join(f"{name}:{n}" for name, n in sorted(counted.items()))[:64]


async def _record_failure(ctx: dict[str, Any], event_id: int, error: str) -> float | None:
    """Count the failed try in a transaction of its own; the delay, or None once parked."""
    async with ctx["db"].session() as session:
        event = await session.get(InboundEvent, event_id, with_for_update=True)
        if event is None:
            return None
        record_failure(event, error)
        await session.commit()
        # retry_after also lets the sweeper offer the row again should arq give up first.
        return None if event.parked_at is not None else retry_delay(event.attempts)


async def process_carrier_event(ctx: dict[str, Any], event_id: int) -> str:
    """Apply one stored carrier status webhook to its shipment and order; return the outcome."""
    async with ctx["db"].session() as session:
        event = await _take(session, event_id)
        if event is None:
            return "skipped"
        source = event.source
        try:
            outcome = await _handle(session, event)
            record_done(event, outcome)
            await session.commit()
        except Exception as exc:
            # A deadlock or a lost connection: nothing was applied (the transaction rolls back).
            await session.rollback()
            log.exception("carrier event not applied", extra={"event_id": event_id})
            error = f"{type(exc).__name__}: {exc}"
            delay = await _record_failure(ctx, event_id, error)
            if delay is None:
                return "failed"
            raise Retry(defer=delay) from exc
    log.info(
        "carrier event handled", extra={"event_id": event_id, "source": source, "outcome": outcome}
    )
    return outcome
