"""Reconciliation: pull recently updated orders from each platform to catch lost webhooks.

Safe to run twice: applying an order the platform already told us about changes nothing.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from arq import Retry
from sqlalchemy import select
from sqlmodel import col

from api.channels.mapping import resolve_variants
from api.channels.models import ChannelConnection
from api.core.jobs import Job
from api.core.queue import JobBuffer, PendingJob
from api.webhooks.sources import PLATFORM_SOURCES
from integrations.platforms import (
    PlatformError,
)
from workers.jobs.platform_orders import apply_orders, updated_orders

log = logging.getLogger(__name__)

RECONCILE_OVERLAP_SECONDS = 600


def _backoff(job_try: int) -> float:
    return float(min(2**job_try, 120))


async def reconcile_all(ctx: dict[str, Any]) -> int:
    """Enqueue a reconciliation pull for every active TikTok Shop / Shopee connection."""
    async with ctx["db"].session() as session:
        ids = (
            await session.execute(
                select(col(ChannelConnection.id)).where(
                    col(ChannelConnection.status) == "active",
                    col(ChannelConnection.platform).in_(PLATFORM_SOURCES),
                )
            )
        ).scalars()
        buffer = JobBuffer(ctx["queue"])
        for connection_id in ids:
            buffer.add(reconcile_job(connection_id))
    return await buffer.flush()


def reconcile_job(connection_id: int) -> PendingJob:
    """The reconcile job of one connection (one at a time per connection)."""
    return PendingJob(
        Job.RECONCILE_CONNECTION, (connection_id,), job_id=f"reconcile:{connection_id}"
    )


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
        pairs = [(line.platform_sku_id, line.seller_sku) for o in orders for line in o.lines]
        variants = await resolve_variants(session, connection, pairs)
        outcomes = await apply_orders(ctx, connection, orders, variants, source="reconcile")
        failed = [order_id for order_id, outcome in outcomes.items() if outcome == "failed"]
        if failed:
            # Keep the window where it was: the next pull sees these orders again.
            log.warning(
                "reconcile left orders unapplied",
                extra={"connection_id": connection_id, "orders": failed[:20]},
            )
            return len(orders) - len(failed)
        connection.last_reconciled_update_time = until
        await session.commit()
    if orders:
        log.info("reconciled", extra={"connection_id": connection_id, "orders": len(orders)})
    return len(orders)
