"""Order ingestion jobs: handle one inbox row, sweep forgotten rows, reconcile with platforms.

Every job is safe to run twice: the inbox row is taken with FOR UPDATE SKIP LOCKED (a second
runner walks away), a handled row is not handled again, and the order upsert is idempotent.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from arq import Retry
from sqlalchemy import select, text, update
from sqlmodel import col

from api.channels.mapping import find_connection
from api.channels.models import ChannelConnection
from api.core.db import PhienSession, utcnow
from api.orders.ingest import apply_platform_order, record_unknown_shop_order
from api.webhooks.inbox import process_job
from api.webhooks.models import InboundEvent
from integrations.platforms import (
    PlatformError,
    PlatformPayloadError,
    PlatformWebhook,
    shopee,
    tiktok_shop,
)
from workers.jobs.platform_orders import fetch_orders, settings_of, updated_orders
from workers.queue import JobBuffer, PendingJob

log = logging.getLogger(__name__)

ORDER_TOPICS = frozenset({"ORDER_STATUS_CHANGE", "order_status_update"})
MAX_ATTEMPTS = 25
RECONCILE_OVERLAP_SECONDS = 600


def parse_event(event: InboundEvent) -> PlatformWebhook:
    """Re-parse the stored raw body (the inbox keeps bytes, not our interpretation)."""
    if event.source == "tiktok_shop":
        return tiktok_shop.parse_webhook(event.raw_body)
    return shopee.parse_push(event.raw_body)


def _backoff(job_try: int) -> float:
    return float(min(2**job_try, 120))


async def _finish(session: PhienSession, event: InboundEvent, outcome: str) -> str:
    event.handled_at = utcnow()
    event.outcome = outcome
    event.attempts += 1
    await session.commit()
    return outcome


async def _record_failure(ctx: dict[str, Any], event_id: int, error: str) -> None:
    async with ctx["db"].session() as session:
        await session.execute(
            update(InboundEvent)
            .where(col(InboundEvent.id) == event_id)
            .values(attempts=col(InboundEvent.attempts) + 1, last_error=error[:2000])
        )
        await session.commit()


async def process_inbound_event(ctx: dict[str, Any], event_id: int) -> str:
    """Handle one stored webhook: fetch the order from the platform and apply it."""
    async with ctx["db"].session() as session:
        event = (
            await session.execute(
                select(InboundEvent)
                .where(col(InboundEvent.id) == event_id)
                .with_for_update(skip_locked=True)
            )
        ).scalar_one_or_none()
        if event is None or event.handled_at is not None:
            return "skipped"
        try:
            hook = parse_event(event)
        except PlatformPayloadError:
            return await _finish(session, event, "unparseable")
        if hook.topic not in ORDER_TOPICS or hook.order_id is None:
            return await _finish(session, event, "ignored")
        connection = await find_connection(session, hook.platform, hook.shop_id)
        if connection is None:
            await record_unknown_shop_order(session, hook)
            log.warning(
                "order for an unknown shop kept",
                extra={"source": hook.platform, "shop": hook.shop_id},
            )
            return await _finish(session, event, "unknown_shop")
        try:
            orders = await fetch_orders(ctx, connection, [hook.order_id])
        except PlatformError as exc:
            await session.rollback()
            await _record_failure(ctx, event_id, f"{exc.code}: {exc.message}")
            log.warning(
                "order fetch failed",
                extra={"event_id": event_id, "code": exc.code, "transient": exc.transient},
            )
            raise Retry(defer=_backoff(ctx.get("job_try", 1))) from exc
        if not orders:
            return await _finish(session, event, "order_not_found")
        await apply_platform_order(session, connection, orders[0], source=f"webhook:{event.source}")
        return await _finish(session, event, "processed")


async def sweep_inbox(ctx: dict[str, Any]) -> int:
    """Re-enqueue inbox rows nobody handled (Redis was down, an enqueue was lost)."""
    async with ctx["db"].session() as session:
        ids = (
            await session.execute(
                text(
                    "SELECT id FROM inbound_events WHERE handled_at IS NULL"
                    " AND received_at < now() - make_interval(secs => :age)"
                    " AND attempts < :max ORDER BY received_at LIMIT 1000"
                ),
                {"age": settings_of(ctx).inbox_sweep_after_seconds, "max": MAX_ATTEMPTS},
            )
        ).scalars()
        buffer = JobBuffer(ctx["queue"])
        for event_id in ids:
            buffer.add(process_job(int(event_id)))
        count = len(buffer.pending)
    sent = await buffer.flush()
    if count:
        log.info("inbox sweep", extra={"found": count, "enqueued": sent})
    return count


async def reconcile_all(ctx: dict[str, Any]) -> int:
    """Enqueue a reconciliation pull for every active TikTok Shop / Shopee connection."""
    async with ctx["db"].session() as session:
        ids = (
            await session.execute(
                select(col(ChannelConnection.id)).where(
                    col(ChannelConnection.status) == "active",
                    col(ChannelConnection.platform).in_(("tiktok_shop", "shopee")),
                )
            )
        ).scalars()
        buffer = JobBuffer(ctx["queue"])
        for connection_id in ids:
            buffer.add(reconcile_job(connection_id))
    return await buffer.flush()


def reconcile_job(connection_id: int) -> PendingJob:
    """The reconcile job of one connection (one at a time per connection)."""
    return PendingJob("reconcile_connection", (connection_id,), job_id=f"reconcile:{connection_id}")


async def reconcile_connection(ctx: dict[str, Any], connection_id: int, max_pages: int = 20) -> int:
    """Pull orders updated since the last pull and apply them: catches webhooks that never came."""
    until = int(time.time())
    async with ctx["db"].session() as session:
        connection = await session.get(ChannelConnection, connection_id)
        if connection is None or connection.status != "active":
            return 0
        since = (connection.last_reconciled_update_time or until - 3600) - RECONCILE_OVERLAP_SECONDS
        try:
            orders = await updated_orders(ctx, connection, since, until, max_pages)
        except PlatformError as exc:
            log.warning(
                "reconcile failed", extra={"connection_id": connection_id, "code": exc.code}
            )
            if exc.transient:
                raise Retry(defer=_backoff(ctx.get("job_try", 1))) from exc
            return 0
        for order in orders:
            await apply_platform_order(session, connection, order, source="reconcile")
        connection.last_reconciled_update_time = until
        await session.commit()
    if orders:
        log.info("reconciled", extra={"connection_id": connection_id, "orders": len(orders)})
    return len(orders)
