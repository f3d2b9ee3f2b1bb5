"""Platform inbox jobs: drain stored webhooks in batches, fetch their orders, apply them.

One drain takes up to 50 unhandled rows of a source with FOR UPDATE SKIP LOCKED (so several
workers share the inbox without overlap), asks the platform for all their orders in one call per
shop (the order APIs take 50 ids: 50 times fewer platform calls than one per webhook), creates
the first-seen orders in one batch transaction and moves known ones forward one by one, then
marks the rows handled.

Every job is safe to run twice: a handled row is never handled again and the order upsert is
idempotent. A lost ring (Redis down, a crash) is found by the sweeper, which looks at the rows.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select, text
from sqlmodel import col

from api.channels.mapping import find_connection, resolve_variants
from api.channels.models import ChannelConnection, Platform
from api.core.db import PhienSession, utcnow
from api.core.queue import JobBuffer
from api.orders.updates import record_unknown_shop_order
from api.webhooks.inbox import DRAIN_LANES, drain_job, process_job
from api.webhooks.models import InboundEvent
from api.webhooks.sources import PLATFORM_SOURCES
from integrations.platforms import (
    PlatformError,
    PlatformPayloadError,
    PlatformWebhook,
    shopee,
    tiktok_shop,
)
from workers.context import settings_of
from workers.jobs.platform_orders import apply_orders, fetch_orders

log = logging.getLogger(__name__)

ORDER_TOPICS = frozenset({"ORDER_STATUS_CHANGE", "order_status_update"})
BATCH = 50
# Well inside the job timeout (60 s): a drain that runs out of time hands over, never dies.
DRAIN_BUDGET_S = 30.0
MAX_ATTEMPTS = 25


def parse_event(event: InboundEvent) -> PlatformWebhook:
    """Re-parse the stored raw body (the inbox keeps bytes, not our interpretation)."""
    if event.source == Platform.TIKTOK_SHOP:
        return tiktok_shop.parse_webhook(event.raw_body)
    return shopee.parse_push(event.raw_body)


def _done(event: InboundEvent, outcome: str) -> None:
    event.handled_at = utcnow()
    event.outcome = outcome
    event.attempts += 1
    event.retry_after = None


def _failed(event: InboundEvent, error: str) -> None:
    event.attempts += 1
    event.last_error = error[:2000]
    event.retry_after = utcnow() + timedelta(seconds=min(2**event.attempts, 600))


async def _take(session: PhienSession, source: str, ids: list[int] | None) -> list[InboundEvent]:
    query = select(InboundEvent).where(
        col(InboundEvent.source) == source, col(InboundEvent.handled_at).is_(None)
    )
    if ids is not None:
        query = query.where(col(InboundEvent.id).in_(ids))
    else:
        query = query.where(
            or_(col(InboundEvent.retry_after).is_(None), col(InboundEvent.retry_after) <= utcnow())
        )
    query = query.order_by(col(InboundEvent.id)).limit(BATCH).with_for_update(skip_locked=True)
    return list((await session.execute(query)).scalars())


async def _apply_shop(
    ctx: dict[str, Any],
    session: PhienSession,
    connection: ChannelConnection,
    batch: list[tuple[InboundEvent, PlatformWebhook]],
) -> None:
    order_ids = sorted({hook.order_id for _, hook in batch if hook.order_id})
    try:
        orders = {o.order_id: o for o in await fetch_orders(ctx, connection, order_ids)}
    except PlatformError as exc:
        detail = {"source": connection.platform, "code": exc.code, "events": len(batch)}
        log.warning("order fetch failed; rows retried later", extra=detail)
        for event, _ in batch:
            _failed(event, f"{exc.code}: {exc.message}")
        return
    pairs = [(line.platform_sku_id, line.seller_sku) for o in orders.values() for line in o.lines]
    variants = await resolve_variants(session, connection, pairs)
    outcomes = await apply_orders(
        ctx, connection, list(orders.values()), variants, source=f"webhook:{connection.platform}"
    )
    for event, hook in batch:
        outcome = outcomes.get(hook.order_id or "", "order_not_found")
        if outcome == "failed":
            _failed(event, "order could not be applied; see logs")
        else:
            _done(event, outcome)


async def _handle(ctx: dict[str, Any], session: PhienSession, events: list[InboundEvent]) -> None:
    by_shop: dict[tuple[str, str], list[tuple[InboundEvent, PlatformWebhook]]] = defaultdict(list)
    for event in events:
        try:
            hook = parse_event(event)
        except PlatformPayloadError:
            _done(event, "unparseable")
            continue
        if hook.topic not in ORDER_TOPICS or hook.order_id is None:
            _done(event, "ignored")
            continue
        by_shop[(hook.platform, hook.shop_id)].append((event, hook))
    for (platform, shop_id), batch in by_shop.items():
        connection = await find_connection(session, platform, shop_id)
        if connection is None:
            for event, hook in batch:
                await record_unknown_shop_order(session, hook)
                _done(event, "unknown_shop")
            log.warning(
                "orders for an unknown shop kept", extra={"source": platform, "shop": shop_id}
            )
            continue
        await _apply_shop(ctx, session, connection, batch)


async def _drain_once(ctx: dict[str, Any], source: str, ids: list[int] | None = None) -> int:
    async with ctx["db"].session() as session:
        events = await _take(session, source, ids)
        if events:
            await _handle(ctx, session, events)
            await session.commit()
        return len(events)


async def drain_inbox(ctx: dict[str, Any], source: str, lane: int = 0) -> int:
    """Handle rows of `source` until the inbox is empty or the time budget is spent."""
    handled = 0
    deadline = time.monotonic() + DRAIN_BUDGET_S
    while time.monotonic() < deadline:
        taken = await _drain_once(ctx, source)
        handled += taken
        if taken < BATCH:
            return handled
    # Still more: this job's own id is taken until it returns, so ring the next lane.
    await JobBuffer(ctx["queue"], [drain_job(source, (lane + 1) % DRAIN_LANES)]).flush()
    return handled


async def sweep_inbox(ctx: dict[str, Any]) -> int:
    """Ring again for inbox rows nobody handled (Redis was down, a ring was lost)."""
    async with ctx["db"].session() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT source, id FROM inbound_events WHERE handled_at IS NULL"
                    " AND received_at < now() - make_interval(secs => :age)"
                    " AND (retry_after IS NULL OR retry_after <= now())"
                    " AND attempts < :max ORDER BY received_at LIMIT 1000"
                ),
                {"age": settings_of(ctx).inbox_sweep_after_seconds, "max": MAX_ATTEMPTS},
            )
        ).all()
    buffer = JobBuffer(ctx["queue"])
    sources = {source for source, _ in rows if source in PLATFORM_SOURCES}
    for source in sources:
        for lane in range(DRAIN_LANES):
            buffer.add(drain_job(source, lane))
    for source, event_id in rows:
        if source not in PLATFORM_SOURCES:
            buffer.add(process_job(source, int(event_id)))
    sent = await buffer.flush()
    if rows:
        log.info("inbox sweep", extra={"found": len(rows), "enqueued": sent})
    return len(rows)
