"""Slow, hanging and forgetful carriers: the hand-off ends, counts, waits and never lies.

Issue 9 items 4, 5, 7: each test here failed on 95bffa4 (see the commit that added it).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from arq import create_pool
from arq.connections import RedisSettings
from arq.constants import job_key_prefix
from sqlalchemy import text

from api.core.config import Settings
from api.core.db import Database
from api.core.jobs import Job
from api.core.queue import JobQueue, PendingJob
from api.shipments.handoff import MAX_ATTEMPTS
from tests.factories import World
from tests.ingestion.rig import run_worker
from tests.shipments.rig import (
    CarrierSim,
    confirmed_order,
    order_of,
    outbox_row,
    set_shipment,
    shipment_of,
    stored_order,
)
from tests.shipments.tracking_rig import at, post_vtp, vtp_body, work_off_inbox
from workers.context import shutdown, startup
from workers.jobs.handoff import hand_off_shipments, sweep_shipments
from workers.settings import WorkerSettings

# The carrier stores the parcel, then answers only after this long.
HANG_S = 4.0


@pytest.fixture
def vtp(viettel_post_sim: str) -> CarrierSim:
    return CarrierSim(viettel_post_sim)


@pytest.fixture
async def job_ctx(settings: Settings, redis_url: str) -> AsyncIterator[dict[str, Any]]:
    """What arq hands a hand-off job: a worker's context, started as the worker starts it."""
    ctx: dict[str, Any] = {
        "redis": await create_pool(RedisSettings.from_dsn(redis_url)),
        "settings": settings.model_copy(
            update={"carrier_timeout_s": 30.0, "shipment_sweep_after_seconds": 0}
        ),
        "job_id": "handoffs:under-test",
    }
    await startup(ctx)
    yield ctx
    await shutdown(ctx)
    await ctx["redis"].aclose()


async def _send(redis_url: str, *jobs: PendingJob) -> None:
    redis = aioredis.Redis.from_url(redis_url)
    await JobQueue(redis).send(list(jobs))
    await redis.aclose()


async def _rows(db: Database, world: World, count: int) -> list[int]:
    return [await outbox_row(db, await stored_order(db, world, world.coop_a)) for _ in range(count)]


async def test_a_killed_batch_still_counts_its_attempts_and_the_limit_is_reached(
    world: World, db: Database, vtp: CarrierSim, job_ctx: dict[str, Any], settings: Settings
) -> None:
    [shipment_id] = await _rows(db, world, 1)
    await set_shipment(db, shipment_id, booking_attempts=MAX_ATTEMPTS - 1)
    await vtp.configure(timeout_rate=1.0, timeout_sleep_s=HANG_S)
    # arq cancels a job at its timeout exactly like this, in the middle of the carrier call.
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(hand_off_shipments(job_ctx, [shipment_id]), timeout=1.0)
    assert (await shipment_of(db, shipment_id)).booking_attempts == MAX_ATTEMPTS

    # The sweeper sees the runner gone and offers the row again: the limit is reached, a person
    # is told, and the carrier is not called a second time.
    assert await sweep_shipments(job_ctx) == 1
    await run_worker(settings)
    shipment = await shipment_of(db, shipment_id)
    assert shipment.booking_error is not None
    assert shipment.booking_error.startswith(f"gave up after {MAX_ATTEMPTS} attempts")
    assert (await vtp.call("GET", "/stats"))["calls"]["createOrder"] == 1


async def test_a_batch_ends_by_its_deadline_and_leaves_the_rest_to_their_own_jobs(
    world: World,
    db: Database,
    vtp: CarrierSim,
    job_ctx: dict[str, Any],
    settings: Settings,
    redis_url: str,
) -> None:
    ids = await _rows(db, world, 3)
    await vtp.configure(timeout_rate=1.0, timeout_sleep_s=HANG_S)
    job_ctx["settings"] = job_ctx["settings"].model_copy(update={"handoff_deadline_s": 0.5})
    outcome = await hand_off_shipments(job_ctx, ids)

    assert outcome == {"retry": 3}
    redis = aioredis.Redis.from_url(redis_url)
    queued = [await redis.exists(job_key_prefix + f"handoff:{i}") for i in ids]
    await redis.aclose()
    assert queued == [1, 1, 1]
    for shipment_id in ids:
        row = await shipment_of(db, shipment_id)
        assert (row.status, row.booking_attempts, row.carrier_call_until) == ("pending", 1, None)
        assert row.status_reason is not None
        assert "deadline" in row.status_reason
    # The carrier kept each parcel it was sent: their own jobs adopt them, none booked twice.
    await vtp.configure(timeout_rate=0.0)
    await run_worker(settings)
    summary = await vtp.bookings()
    assert (summary["total"], summary["duplicates"]) == (3, 0)
    assert [(await shipment_of(db, i)).status for i in ids] == ["handed_off"] * 3


async def test_a_workers_database_pool_covers_its_jobs(settings: Settings, redis_url: str) -> None:
    # Nothing configured (the test stack itself sets a small pool): the default applies. A
    # pool's size is its allowance; connections open only when jobs ask for them.
    ctx: dict[str, Any] = {
        "redis": await create_pool(RedisSettings.from_dsn(redis_url)),
        "settings": settings.model_copy(update={"db_pool_size": None}),
    }
    await startup(ctx)
    try:
        assert ctx["db"].engine.pool.size() >= WorkerSettings.max_jobs
    finally:
        await shutdown(ctx)
        await ctx["redis"].aclose()


async def _idle_in_transaction(db: Database) -> int:
    async with db.session() as session:
        count = await session.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND state LIKE 'idle in transaction%'"
            )
        )
    return int(count or 0)


async def test_no_transaction_stays_open_while_the_carrier_answers(
    world: World,
    db: Database,
    vtp: CarrierSim,
    settings: Settings,
    client: httpx.AsyncClient,
    redis_url: str,
) -> None:
    [shipment_id] = await _rows(db, world, 1)
    await vtp.configure(timeout_rate=1.0, timeout_sleep_s=HANG_S)
    await _send(redis_url, PendingJob(Job.HAND_OFF_SHIPMENT, (shipment_id,), "slow-carrier"))
    worker = asyncio.create_task(
        run_worker(settings.model_copy(update={"carrier_timeout_s": 30.0}))
    )
    for _ in range(400):
        if (await vtp.call("GET", "/stats"))["calls"].get("createOrder"):
            break
        await asyncio.sleep(0.02)
    # The carrier holds the booking call: nothing of ours waits inside a transaction, and the
    # row is free for a person's read.
    assert await _idle_in_transaction(db) == 0
    headers = world.users["logistics"].headers
    read = await client.get(f"/api/v1/shipments/{shipment_id}", headers=headers)
    assert read.status_code == 200
    await worker
    assert (await shipment_of(db, shipment_id)).status == "handed_off"


async def test_a_lost_answer_the_carrier_cannot_look_up_awaits_it_and_is_never_refused(
    settings: Settings,
    world: World,
    db: Database,
    tiktok_sim: str,
    vtp: CarrierSim,
    client: httpx.AsyncClient,
    redis_url: str,
) -> None:
    # createOrder is stored but answered too late; the order lookup is a route VTP may not have.
    await vtp.configure(
        timeout_rate=1.0,
        timeout_sleep_s=1.5,
        order_lookup_available=False,
        duplicate_message="Order status already exists on the system",  # VTP-DOC §9.4
    )
    impatient = settings.model_copy(update={"carrier_timeout_s": 0.5})
    order = await confirmed_order(impatient, db, world, tiktok_sim)
    assert order.id is not None
    shipment = await shipment_of(db, order.id)
    assert (shipment.status, shipment.waybill, shipment.booking_error) == ("pending", None, None)
    assert shipment.awaiting_confirmation_since is not None
    headers = world.users["logistics"].headers
    attention = await client.get("/api/v1/shipments?needs_attention=true", headers=headers)
    assert attention.json()["items"] == []

    # A later try: the carrier refuses the reference in its documented wording, which means
    # "already booked", and still cannot say which parcel: the row keeps waiting, unrefused.
    await vtp.configure(timeout_rate=0.0)
    await _send(redis_url, PendingJob(Job.HAND_OFF_SHIPMENT, (shipment.id,), "recheck"))
    await run_worker(settings)
    waiting = await shipment_of(db, order.id)
    assert (waiting.status, waiting.booking_error) == ("pending", None)
    assert waiting.awaiting_confirmation_since is not None
    summary = await vtp.bookings()
    assert (summary["total"], summary["duplicate_attempts_rejected"]) == (1, 1)

    # The carrier's webhook carries our reference with its waybill: that settles it.
    parcel = await vtp.parcel(shipment.reference)
    body = vtp_body(parcel["waybill"], 100, at(0), token="", reference=shipment.reference)
    assert await post_vtp(client, settings, body) == 200
    await work_off_inbox(settings, db)
    settled = await shipment_of(db, order.id)
    assert (settled.status, settled.waybill) == ("handed_off", parcel["waybill"])
    assert settled.awaiting_confirmation_since is None
    assert (await order_of(db, order.id)).fulfilment_status == "handed_off"
