"""Platform inbox jobs: drain stored webhooks in batches, fetch their orders, apply them.

One drain takes up to 50 unhandled rows of a source with FOR UPDATE SKIP LOCKED (so several
workers share the inbox without overlap), asks the platform for all their orders in one call per
shop (the order APIs take 50 ids: 50 times fewer platform calls than one per webhook), creates
the first-seen orders in one batch transaction and moves known ones forward one by one, then
marks the rows handled.

A failure is kept to the rows it belongs to: each shop's rows are handled inside a savepoint, and
when one fails its rows alone record the failed try (in the drain's own transaction, outside the
rolled-back savepoint) while the other shops' rows go on. Should the whole round fail anyway, its
rows are tried again one per transaction. A row that keeps failing is parked (`attempts.py`).

Every job is safe to run twice: a handled row is never handled again and the order upsert is
idempotent. A lost ring (Redis down, a crash) is found by the sweeper, which looks at the rows.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import defaultdict
from typing import Any

from sqlalchemy import or_, select, text
from sqlmodel import col

from api.channels.mapping import find_connection, resolve_variants
from api.channels.models import ChannelConnection, Platform
from api.core.db import PhienSession, utcnow
from api.core.jobs import Job
from api.core.limits import PLATFORM_ORDER_ID_MAX, SHOP_ID_MAX, unstorable
from api.core.queue import JobBuffer, PendingJob
from api.orders.updates import record_unknown_shop_order
from api.webhooks.inbox import DRAIN_LANES, REFUSED_KEY, drain_job, process_job
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
from workers.jobs.attempts import (
    OUTAGE_ATTEMPTS,
    POISON_ATTEMPTS,
    park,
    record_done,
    record_failure,
)
from workers.jobs.platform_orders import apply_orders, fetch_orders
from workers.jobs.reconcile import reconcile_job

log = logging.getLogger(__name__)

ORDER_TOPICS = frozenset({"ORDER_STATUS_CHANGE", "order_status_update"})
BATCH = 50
# Well inside the job timeout (60 s): a drain that runs out of time hands over, never dies.
DRAIN_BUDGET_S = 30.0


def parse_event(event: InboundEvent) -> PlatformWebhook:
    """Re-parse the stored raw body (the inbox keeps bytes, not our interpretation)."""
    if event.source == Platform.TIKTOK_SHOP:
        return tiktok_shop.parse_webhook(event.raw_body)
    return shopee.parse_push(event.raw_body)


async def _take(session: PhienSession, source: str, ids: list[int] | None) -> list[InboundEvent]:
    query = select(InboundEvent).where(
        col(InboundEvent.source) == source,
        col(InboundEvent.handled_at).is_(None),
        col(InboundEvent.parked_at).is_(None),
    )
    if ids is not None:
        query = query.where(col(InboundEvent.id).in_(ids))
    else:
        query = query.where(
            or_(col(InboundEvent.retry_after).is_(None), col(InboundEvent.retry_after) <= utcnow())
        )
    query = query.order_by(col(InboundEvent.id)).limit(BATCH).with_for_update(skip_locked=True)
    return list((await session.execute(query)).scalars())


# Set while a shop's platform fails transiently; on its next good answer, a reconciliation pull
# catches what changed meanwhile (sooner than the five-minute cron). Kept in Redis, so whichever
# worker sees the platform come back rings it.
PLATFORM_DOWN_PREFIX = "phien:platform-down:"


async def _note_platform_down(ctx: dict[str, Any], connection: ChannelConnection) -> None:
    with contextlib.suppress(Exception):  # Redis down as well: the cron still comes
        await ctx["redis"].set(f"{PLATFORM_DOWN_PREFIX}{connection.id}", b"1", ex=86_400)


async def _after_platform_outage(ctx: dict[str, Any], connection: ChannelConnection) -> None:
    if connection.id is None:
        return
    try:
        was_down = await ctx["redis"].getdel(f"{PLATFORM_DOWN_PREFIX}{connection.id}")
    except Exception:
        return  # Redis down: the cron still comes
    if was_down:
        log.info("platform answers again; reconciling", extra={"source": connection.platform})
        await JobBuffer(ctx["queue"], [reconcile_job(connection.id)]).flush()


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
        if exc.transient:
            await _note_platform_down(ctx, connection)
        detail = {"source": connection.platform, "code": exc.code, "events": len(batch)}
        log.warning("order fetch failed; rows retried later", extra=detail)
        # An outage is waited out; a refusal (a revoked token) soon parks this shop's rows.
        limit = OUTAGE_ATTEMPTS if exc.transient else POISON_ATTEMPTS
        for event, _ in batch:
            record_failure(event, f"{exc.code}: {exc.message}", limit=limit)
        return
    await _after_platform_outage(ctx, connection)
    pairs = [(line.platform_sku_id, line.seller_sku) for o in orders.values() for line in o.lines]
    variants = await resolve_variants(session, connection, pairs)
    outcomes = await apply_orders(
        ctx, connection, list(orders.values()), variants, source=f"webhook:{connection.platform}"
    )
    for event, hook in batch:
        outcome = outcomes.get(hook.order_id or "", "order_not_found")
        if outcome == "failed":
            record_failure(event, "order could not be applied; see logs")
        else:
            record_done(event, outcome)


def _unstorable(hook: PlatformWebhook) -> str | None:
    return unstorable("shop_id", hook.shop_id, SHOP_ID_MAX) or unstorable(
        "order id", hook.order_id, PLATFORM_ORDER_ID_MAX
    )


def _group(
    events: list[InboundEvent],
) -> dict[tuple[str, str], list[tuple[InboundEvent, PlatformWebhook]]]:
    by_shop: dict[tuple[str, str], list[tuple[InboundEvent, PlatformWebhook]]] = defaultdict(list)
    for event in events:
        try:
            hook = parse_event(event)
        except PlatformPayloadError:
            record_done(event, "unparseable")
            continue
        if hook.topic not in ORDER_TOPICS or hook.order_id is None:
            record_done(event, "ignored")
            continue
        reason = _unstorable(hook)
        if reason is not None:
            park(event, reason)  # no later code could store it: no use trying again
            continue
        by_shop[(hook.platform, hook.shop_id)].append((event, hook))
    return by_shop


async def _handle_shop(
    ctx: dict[str, Any],
    session: PhienSession,
    key: tuple[str, str],
    batch: list[tuple[InboundEvent, PlatformWebhook]],
) -> None:
    connection = await find_connection(session, *key)
    if connection is None:
        for event, hook in batch:
            await record_unknown_shop_order(session, hook)
            record_done(event, "unknown_shop")
        log.warning("orders for an unknown shop kept", extra={"source": key[0], "shop": key[1]})
        return
    await _apply_shop(ctx, session, connection, batch)


async def _handle(ctx: dict[str, Any], session: PhienSession, events: list[InboundEvent]) -> None:
    for key, batch in _group(events).items():
        try:
            async with session.begin_nested():
                await _handle_shop(ctx, session, key, batch)
        except Exception as exc:
            log.exception(
                "shop's rows failed; the others go on",
                extra={"source": key[0], "events": len(batch)},
            )
            for event, _ in batch:
                await session.refresh(event)  # the savepoint's changes are gone
                record_failure(event, f"{type(exc).__name__}: {exc}")


async def _drain_round(ctx: dict[str, Any], source: str, ids: list[int] | None) -> list[int]:
    async with ctx["db"].session() as session:
        events = await _take(session, source, ids)
        taken = [event.id for event in events if event.id is not None]
        if events:
            await _handle(ctx, session, events)
            await session.commit()
        return taken


async def _record_failed_round(ctx: dict[str, Any], event_id: int, error: str) -> None:
    async with ctx["db"].session() as session:
        event = await session.get(InboundEvent, event_id, with_for_update=True)
        if event is not None and event.handled_at is None and event.parked_at is None:
            record_failure(event, error)
            await session.commit()


async def _drain_once(ctx: dict[str, Any], source: str, ids: list[int] | None = None) -> int:
    try:
        return len(await _drain_round(ctx, source, ids))
    except Exception:
        log.exception("drain round failed; its rows are tried one by one", extra={"source": source})
    # Which rows were in the failed round is not known once it rolled back: take them again,
    # one per transaction, so whatever broke the round is charged to its own row only.
    async with ctx["db"].session() as session:
        events = await _take(session, source, ids)
        suspects = [event.id for event in events if event.id is not None]
    for event_id in suspects:
        try:
            await _drain_round(ctx, source, [event_id])
        except Exception as exc:
            await _record_failed_round(ctx, event_id, f"{type(exc).__name__}: {exc}")
    return len(suspects)


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
                    " AND parked_at IS NULL"
                    " AND received_at < now() - make_interval(secs => :age)"
                    " AND (retry_after IS NULL OR retry_after <= now())"
                    " ORDER BY received_at LIMIT 1000"
                ),
                {"age": settings_of(ctx).inbox_sweep_after_seconds},
            )
        ).all()
    buffer = JobBuffer(ctx["queue"])
    if await ctx["redis"].getdel(REFUSED_KEY):
        # Webhooks were refused while the inbox could not store them (the database was down,
        # and answers now): pull what changed rather than wait for the platforms' retries.
        log.info("webhooks were refused; reconciling every shop")
        buffer.add(PendingJob(Job.RECONCILE_ALL, (), job_id="reconcile-all:refused"))
    sources = {source for source, _ in rows if source in PLATFORM_SOURCES}
    for source in sources:
        for lane in range(DRAIN_LANES):
            buffer.add(drain_job(source, lane))
    for source, event_id in rows:
        if source not in PLATFORM_SOURCES:
            buffer.add(process_job(source, int(event_id)))
    sent = await buffer.flush()
    if rows or sent:
        log.info("inbox sweep", extra={"found": len(rows), "enqueued": sent})
    return len(rows)
