"""Carrier tracking: one stored carrier push (an inbox row) applied to its shipments.

A push is stored once however many updates it carries (Viettel Post may send several `DATA`
items), and one job applies them all, in the order sent. GHN signs nothing (fact sheet §2.4):
before one of its events records money or a delivery, or moves stock for good, GHN's own API is
asked what the parcel's status and COD amount really are (with no transaction open).

Safe to run twice: the inbox row is taken FOR UPDATE SKIP LOCKED (a second runner walks away), a
handled row is never handled again, and the shipment event is unique per (carrier, event key).
A failure leaves the row unhandled with a retry_after; arq retries soon, the sweeper later; a row
that fails again and again is parked for a person (`attempts.py`).
"""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from collections.abc import Callable
from typing import Any

from arq import Retry

from api.core.db import PhienSession
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
from workers.jobs.attempts import record_done, record_failure, retry_delay, take_open

log = logging.getLogger(__name__)

PARSERS: dict[str, Callable[[bytes], list[TrackingUpdate]]] = {
    "viettel_post": viettel_post.parse_webhook,
    "ghn": ghn.parse_webhook,
}
REREAD_STATUSES = frozenset(
    {ShipmentStatus.DELIVERED, ShipmentStatus.RETURNED, ShipmentStatus.CANCELLED}
)


@dataclasses.dataclass(frozen=True)
class ReRead:
    """What the carrier's API said about an unsigned event: the update to apply, or None."""

    update: TrackingUpdate | None


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


async def _reread(ctx: dict[str, Any], event_id: int) -> ReRead | None:
    """Re-read an unsigned GHN event's claim from GHN, with no transaction open."""
    async with ctx["db"].session() as session:
        event = await session.get(InboundEvent, event_id)
        fresh = event is not None and event.handled_at is None and event.parked_at is None
        updates = parse_stored(event) if event is not None and fresh else None
    if not updates or len(updates) != 1:
        return None
    tracking = updates[0]
    if tracking.carrier != "ghn" or tracking.status not in REREAD_STATUSES:
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


async def _apply(session: PhienSession, tracking: TrackingUpdate) -> str:
    shipment = await find_shipment(session, tracking)
    if shipment is None:
        await record_unknown(session, tracking)
        return "unknown_waybill"
    return (await apply_tracking(session, shipment, tracking)).value


async def _handle(session: PhienSession, event: InboundEvent, reread: ReRead | None) -> str:
    updates = parse_stored(event)
    if not updates:
        return "unparseable"
    if reread is not None:
        if reread.update is None:
            # GHN's API knows no such parcel: the event is not believed.
            log.warning("unconfirmed carrier event", extra={"event_id": event.id})
            return "unconfirmed"
        updates = [reread.update]
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
    try:
        reread = await _reread(ctx, event_id)
    except CarrierError as exc:
        delay = await _record_failure(ctx, event_id, f"re-read failed: {exc.message}")
        if delay is None:
            return "failed"
        raise Retry(defer=delay) from exc
    async with ctx["db"].session() as session:
        event = await take_open(session, event_id)
        if event is None:
            return "skipped"
        source = event.source
        try:
            outcome = await _handle(session, event, reread)
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
