"""Reconciliation: pull recently updated orders from each platform to catch lost webhooks.

A pull pages through every order changed in its window, applying each page as it comes (no
transaction stays open across a platform call). The "reconciled up to" mark moves only once the
whole window is done: a pull that runs out of time hands its page cursor to a follow-up job, and
one that fails keeps the mark where it was, so no change is ever skipped.

A pull is also rung soon after an outage (the webhook lane answered 503, or a platform came back
after failing): webhooks refused meanwhile return only when the platform retries, minutes later.

Safe to run twice: applying an order the platform already told us about changes nothing.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any

from arq import Retry
from sqlalchemy import select, update
from sqlmodel import col

from api.channels.mapping import resolve_variants
from api.channels.models import ChannelConnection
from api.core.jobs import Job
from api.core.queue import JobBuffer, PendingJob
from api.webhooks.sources import PLATFORM_SOURCES
from integrations.platforms import PlatformError, PlatformOrder
from workers.jobs.platform_orders import apply_orders, changed_orders_page

log = logging.getLogger(__name__)

RECONCILE_OVERLAP_SECONDS = 600
# Well inside the 60 s job timeout: what is left goes on in a follow-up job.
RECONCILE_BUDGET_S = 30.0


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


def reconcile_job(connection_id: int, resume: dict[str, Any] | None = None) -> PendingJob:
    """The reconcile job of one connection (one at a time per connection), or its follow-up."""
    if resume is None:
        job_id = f"reconcile:{connection_id}"
        return PendingJob(Job.RECONCILE_CONNECTION, (connection_id,), job_id=job_id)
    digest = hashlib.sha256(str(sorted(resume.items())).encode()).hexdigest()[:16]
    job_id = f"reconcile:{connection_id}:{digest}"
    return PendingJob(Job.RECONCILE_CONNECTION, (connection_id, resume), job_id=job_id)


async def _load(ctx: dict[str, Any], connection_id: int) -> ChannelConnection | None:
    async with ctx["db"].session() as session:
        connection = await session.get(ChannelConnection, connection_id)
        if connection is None or connection.status != "active":
            return None
        session.expunge(connection)  # read-only from here: its fields, never its session
        found: ChannelConnection = connection
        return found


async def _apply_page(
    ctx: dict[str, Any], connection: ChannelConnection, orders: list[PlatformOrder]
) -> list[str]:
    """Apply one page; the platform ids of orders that could not be applied."""
    pairs = [(line.platform_sku_id, line.seller_sku) for o in orders for line in o.lines]
    async with ctx["db"].session() as session:
        variants = await resolve_variants(session, connection, pairs)
    outcomes = await apply_orders(ctx, connection, orders, variants, source="reconcile")
    return [order_id for order_id, outcome in outcomes.items() if outcome == "failed"]


async def _save_mark(ctx: dict[str, Any], connection_id: int, until: int) -> None:
    async with ctx["db"].session() as session:
        await session.execute(
            update(ChannelConnection)
            .where(col(ChannelConnection.id) == connection_id)
            .values(last_reconciled_update_time=until)
        )
        await session.commit()


def _window(connection: ChannelConnection, resume: dict[str, Any] | None) -> dict[str, Any]:
    if resume is not None:
        return dict(resume)
    until = int(time.time())
    since = (connection.last_reconciled_update_time or until - 3600) - RECONCILE_OVERLAP_SECONDS
    return {"since": since, "until": until, "cursor": None}


async def _pull(
    ctx: dict[str, Any], connection: ChannelConnection, window: dict[str, Any]
) -> tuple[int, bool]:
    """Apply pages until done, failed or out of time: (orders applied, window finished)."""
    applied, deadline = 0, time.monotonic() + RECONCILE_BUDGET_S
    while True:
        page = await changed_orders_page(
            ctx, connection, window["since"], window["until"], window["cursor"]
        )
        failed = await _apply_page(ctx, connection, page.orders)
        applied += len(page.orders) - len(failed)
        if failed:
            # Keep the mark where it was: the next pull sees these orders again.
            log.warning("reconcile left orders unapplied",
                        extra={"connection_id": connection.id, "orders": failed[:20]})  # fmt: skip
            return applied, False
        if page.cursor is None:
            return applied, True
        window["cursor"] = page.cursor
        if time.monotonic() > deadline:
            # Out of time, not done: a follow-up job goes on from this page; the mark stays.
            assert connection.id is not None
            await JobBuffer(ctx["queue"], [reconcile_job(connection.id, window)]).flush()
            return applied, False


async def reconcile_connection(
    ctx: dict[str, Any], connection_id: int, resume: dict[str, Any] | None = None
) -> int:
    """Pull orders changed since the last pull and apply them: catches webhooks that never came."""
    connection = await _load(ctx, connection_id)
    if connection is None:
        return 0
    window = _window(connection, resume)
    try:
        applied, finished = await _pull(ctx, connection, window)
    except PlatformError as exc:
        detail = {"connection_id": connection_id, "code": exc.code}
        log.warning("reconcile failed", extra=detail)
        if exc.transient:
            raise Retry(defer=_backoff(ctx.get("job_try", 1))) from exc
        return 0
    if finished:
        await _save_mark(ctx, connection_id, window["until"])
    if applied:
        log.info("reconciled", extra={"connection_id": connection_id, "orders": applied})
    return applied
