"""The propose_batches job: tomorrow's batches after the cut-off, once, through a real worker."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import redis.asyncio as aioredis
from sqlalchemy import select
from sqlmodel import col

from api.batches.membership import LOCAL_TZ, local_today
from api.batches.models import PickupBatch
from api.batches.proposals import proposal_day
from api.core.config import Settings
from api.core.db import Database
from api.core.jobs import Job
from api.core.queue import JobQueue, PendingJob
from tests.batches.rig import actor_of, booked_parcel, detail, trail
from tests.factories import World
from tests.ingestion.rig import run_worker


async def _ring(redis_url: str, *args: str) -> None:
    redis = aioredis.Redis.from_url(redis_url)
    await JobQueue(redis).send([PendingJob(Job.PROPOSE_BATCHES, tuple(args))])
    await redis.aclose()


async def _batches(db: Database) -> list[PickupBatch]:
    async with db.session() as session:
        rows = await session.execute(select(PickupBatch).order_by(col(PickupBatch.id)))
        return list(rows.scalars())


async def test_proposes_tomorrows_batches_once_after_the_cut_off(
    settings: Settings, world: World, db: Database, redis_url: str
) -> None:
    a = [await booked_parcel(db, world, world.coop_a) for _ in range(2)]
    a_ghn = await booked_parcel(db, world, world.coop_a, carrier="ghn")
    b = await booked_parcel(db, world, world.coop_b)
    config = settings.model_copy(update={"batch_cutoff": "00:00", "batch_window": "07:30-10:00"})
    for _ in range(2):
        await _ring(redis_url)
        complete, failed = await run_worker(config)
        assert (complete >= 1, failed) == (True, 0)

    batches = await _batches(db)
    assert sorted((x.cooperative_id, x.carrier) for x in batches) == sorted(
        [(world.coop_a, "viettel_post"), (world.coop_a, "ghn"), (world.coop_b, "viettel_post")]
    )
    assert {(x.pickup_date, x.window_start, x.window_end, x.status) for x in batches} == {
        (local_today() + timedelta(days=1), time(7, 30), time(10), "open")
    }
    admin = await actor_of(db, world, "admin")
    held = {
        (x.cooperative_id, x.carrier): sorted(
            p.shipment_id for p in (await detail(db, admin, x.id or 0)).items
        )
        for x in batches
    }
    assert held[(world.coop_a, "viettel_post")] == sorted(p.id or 0 for p in a)
    assert held[(world.coop_a, "ghn")] == [a_ghn.id]
    assert held[(world.coop_b, "viettel_post")] == [b.id]
    first = await trail(db, batches[0].id or 0)
    assert (first[0].action, first[0].actor_user_id, first[0].source) == ("created", None, "job")
    assert {e.source for e in first} == {"job"}


async def test_before_the_cut_off_nothing_is_proposed(
    settings: Settings, world: World, db: Database, redis_url: str
) -> None:
    await booked_parcel(db, world)
    early = datetime(2026, 11, 29, 15, 59, tzinfo=LOCAL_TZ).isoformat()
    await _ring(redis_url, early)
    complete, failed = await run_worker(settings)  # BATCH_CUTOFF 16:00 by default
    assert (complete >= 1, failed) == (True, 0)
    assert await _batches(db) == []
    assert proposal_day(datetime(2026, 11, 29, 16, 0, tzinfo=LOCAL_TZ), time(16)) == (
        datetime(2026, 11, 30).date()
    )
