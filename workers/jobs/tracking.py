"""Carrier tracking: one stored carrier webhook (an inbox row) applied to its shipment.

Safe to run twice: the inbox row is taken FOR UPDATE SKIP LOCKED (a second runner walks away), a
handled row is never handled again, and the shipment event is unique per (carrier, event key).
A failure leaves the row unhandled with a retry_after; arq retries soon, the sweeper later.
"""

from __future__ import annotations

import dataclasses
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
from integrations.carriers.base import (
    CarrierError,
    ShipmentStatus,
    TrackingUpdate,
    WebhookPayloadError,
)
from integrations.carriers.ghn.statuses import map_status as ghn_status
from workers.context import carriers_of

log = logging.getLogger(__name__)

PARSERS: dict[str, Callable[[bytes], list[TrackingUpdate]]] = {
    "viettel_post": viettel_post.parse_webhook,
    "ghn": ghn.parse_webhook,
}


# GHN signs nothing (fact sheet §2.4): before an event records money, a delivery or moves stock
# for good, GHN's own API is asked what the parcel's status and COD amount really are.
REREAD_STATUSES = frozenset(
    {ShipmentStatus.DELIVERED, ShipmentStatus.RETURNED, ShipmentStatus.CANCELLED}
)


@dataclasses.dataclass(frozen=True)
class ReRead:
    """What the carrier's API said about an unsigned event: the update to apply, or None."""

    update: TrackingUpdate | None


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


async def _reread(ctx: dict[str, Any], event_id: int) -> ReRead | None:
    """Re-read an unsigned event's claim from the carrier, with no transaction open."""
    async with ctx["db"].session() as session:
        event = await session.get(InboundEvent, event_id)
        tracking = parse_stored(event) if event is not None and event.handled_at is None else None
    if tracking is None or tracking.carrier != "ghn" or tracking.status not in REREAD_STATUSES:
        return None
    state = await carriers_of(ctx).ghn_order_state(tracking.waybill, tracking.reference)
    if state is None:
        return ReRead(None)
    info = ghn_status(state.raw_status)
    return ReRead(
        dataclasses.replace(
            tracking,
            raw_status=state.raw_status,
            status=info.status,
            reason=tracking.reason if info.status is tracking.status else info.reason,
            cod_amount_vnd=state.cod_amount_vnd,
        )
    )


async def _handle(session: PhienSession, event: InboundEvent, reread: ReRead | None) -> str:
    tracking = parse_stored(event)
    if tracking is None:
        return "unparseable"
    if reread is not None:
        if reread.update is None:
            # The carrier's API knows no such parcel: the event is not believed.
            log.warning("unconfirmed carrier event", extra={"event_id": event.id})
            return "unconfirmed"
        tracking = reread.update
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
    try:
        reread = await _reread(ctx, event_id)
    except CarrierError as exc:
        delay = await _record_failure(ctx, event_id, 1, f"re-read failed: {exc.message}")
        raise Retry(defer=delay) from exc
    async with ctx["db"].session() as session:
        event = await _take(session, event_id)
        if event is None:
            return "skipped"
        source, attempts = event.source, event.attempts + 1
        try:
            outcome = await _handle(session, event, reread)
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
