"""Carrier tracking: one stored carrier webhook (an inbox row) applied to its shipment.

Safe to run twice: the inbox row is taken FOR UPDATE SKIP LOCKED (a second runner walks away), a
handled row is never handled again, and the shipment event is unique per (carrier, event key).
A failure leaves the row unhandled with a retry_after; arq retries soon, the sweeper later.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from arq import Retry
from sqlalchemy import select, update
from sqlmodel import col

from api.core.db import PhienSession, utcnow
from api.shipments.tracking import apply_tracking, find_shipment, record_unknown
from api.webhooks.models import InboundEvent
from integrations.carriers import ghn, viettel_post
from integrations.carriers.base import TrackingUpdate, WebhookPayloadError

log = logging.getLogger(__name__)

PARSERS: dict[str, Callable[[bytes], list[TrackingUpdate]]] = {
    "viettel_post": viettel_post.parse_webhook,
    "ghn": ghn.parse_webhook,
}


def _retry_delay(attempts: int) -> float:
    return float(min(2**attempts, 600))


async def _take(session: PhienSession, event_id: int) -> InboundEvent | None:
    row = await session.execute(
        select(InboundEvent)
        .where(col(InboundEvent.id) == event_id, col(InboundEvent.handled_at).is_(None))
        .with_for_update(skip_locked=True)
    )
    return row.scalar_one_or_none()


def parse_stored(event: InboundEvent) -> TrackingUpdate | None:
    """The update this row was stored for (the body is parsed again: the inbox keeps bytes)."""
    parse = PARSERS.get(event.source)
    if parse is None:
        return None
    try:
        updates = parse(event.raw_body)
    except WebhookPayloadError:
        return None
    # One VTP body may carry several DATA rows, each stored as its own row under its own key.
    return next((u for u in updates if u.event_key[:255] == event.event_key), None)


async def _handle(session: PhienSession, event: InboundEvent) -> str:
    tracking = parse_stored(event)
    if tracking is None:
        return "unparseable"
    shipment = await find_shipment(session, tracking)
    if shipment is None:
        await record_unknown(session, tracking)
        return "unknown_waybill"
    return (await apply_tracking(session, shipment, tracking)).value


async def _record_failure(ctx: dict[str, Any], event_id: int, attempts: int, error: str) -> float:
    delay = _retry_delay(attempts)
    async with ctx["db"].session() as session:
        # retry_after lets the sweeper offer the row again should arq give up first.
        await session.execute(
            update(InboundEvent)
            .where(col(InboundEvent.id) == event_id)
            .values(
                attempts=col(InboundEvent.attempts) + 1,
                last_error=error[:2000],
                retry_after=utcnow() + timedelta(seconds=delay),
            )
        )
        await session.commit()
    return delay


async def process_carrier_event(ctx: dict[str, Any], event_id: int) -> str:
    """Apply one stored carrier status webhook to its shipment and order; return the outcome."""
    async with ctx["db"].session() as session:
        event = await _take(session, event_id)
        if event is None:
            return "skipped"
        source, attempts = event.source, event.attempts + 1
        try:
            outcome = await _handle(session, event)
            event.handled_at, event.outcome = utcnow(), outcome
            event.attempts, event.retry_after = attempts, None
            await session.commit()
        except Exception as exc:
            # A deadlock or a lost connection: nothing was applied (the transaction rolls back).
            await session.rollback()
            log.exception("carrier event not applied", extra={"event_id": event_id})
            error = f"{type(exc).__name__}: {exc}"
            delay = await _record_failure(ctx, event_id, attempts, error)
            raise Retry(defer=delay) from exc
    log.info(
        "carrier event handled", extra={"event_id": event_id, "source": source, "outcome": outcome}
    )
    return outcome
