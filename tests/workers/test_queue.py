"""Jobs leave only after their transaction commits, and a real arq worker runs them."""

from __future__ import annotations

from typing import Any

import pytest
import redis.asyncio as aioredis
from arq.connections import ArqRedis
from arq.worker import Worker, func
from sqlalchemy import text

from api.core.config import Settings
from api.core.db import Database
from api.core.jobs import Job
from api.core.queue import QUEUE_NAME, JobBuffer, JobQueue, PendingJob
from api.core.serialization import deserialize, serialize
from workers.heartbeat import ALIVE_PREFIX, ALIVE_TTL_MS, heartbeat
from workers.settings import (
    CRON_JOBS,
    FUNCTIONS,
    check_registry,
    create_worker,
    redis_settings,
    unbound_job_names,
)

ECHO = "test_echo"  # a job of this test's own worker, never registered in production


async def _queued(redis_url: str) -> int:
    redis = aioredis.Redis.from_url(redis_url)
    try:
        return int(await redis.zcard(QUEUE_NAME))
    finally:
        await redis.aclose()


async def _database_with_queue(settings: Settings) -> Database:
    from api.main import open_redis

    assert settings.database_url
    assert settings.redis_url
    database = Database(settings.database_url, pool_size=2, max_overflow=0)
    database.job_sender = JobQueue(await open_redis(settings.redis_url))
    return database


async def _echo(ctx: dict[str, Any], marker: str) -> str:
    async with ctx["db"].session() as session:
        await session.execute(text("SELECT 1"))
    ctx["seen"].append(marker)
    return marker


async def test_job_is_sent_after_commit_and_runs_in_a_burst_worker(settings: Settings) -> None:
    database = await _database_with_queue(settings)
    async with database.session() as session:
        session.enqueue_after_commit(ECHO, "hello", job_id="echo-1")
        assert await _queued(settings.redis_url or "") == 0
        await session.commit()
    assert await _queued(settings.redis_url or "") == 1
    seen: list[str] = []
    worker = Worker(
        functions=[func(_echo, name=ECHO)],
        queue_name=QUEUE_NAME,
        redis_settings=redis_settings(settings),
        ctx={"db": database, "seen": seen},
        job_serializer=serialize,
        job_deserializer=deserialize,
        burst=True,
        handle_signals=False,
    )
    await worker.main()
    await worker.close()
    assert worker.jobs_failed == 0
    assert seen == ["hello"]
    assert await _queued(settings.redis_url or "") == 0
    await database.dispose()


@pytest.mark.pure
def test_every_registered_job_name_has_exactly_one_function() -> None:
    assert unbound_job_names(FUNCTIONS, CRON_JOBS) == []
    check_registry(FUNCTIONS, CRON_JOBS)


@pytest.mark.pure
def test_a_worker_missing_a_registered_job_refuses_to_start() -> None:
    without_drain = [f for f in FUNCTIONS if f.name != Job.DRAIN_INBOX]
    assert unbound_job_names(without_drain, CRON_JOBS) == [f"{Job.DRAIN_INBOX} (no function)"]
    with pytest.raises(RuntimeError, match=Job.DRAIN_INBOX.value):
        check_registry(without_drain, CRON_JOBS)
    stray = [*FUNCTIONS, func(_echo, name=ECHO)]
    assert unbound_job_names(stray, CRON_JOBS) == [f"{ECHO} (not in api.core.jobs.Job)"]


async def test_the_production_worker_builds_from_the_registry(settings: Settings) -> None:
    worker = create_worker(burst=True, handle_signals=False, settings=settings)
    names = set(worker.functions)
    assert names == {job.value for job in Job}
    await worker.close()


async def test_rolled_back_transaction_sends_nothing(settings: Settings) -> None:
    database = await _database_with_queue(settings)
    async with database.session() as session:
        session.enqueue_after_commit(ECHO, "never")
        await session.rollback()
        await session.commit()
    assert await _queued(settings.redis_url or "") == 0
    await database.dispose()


@pytest.mark.pure
async def test_a_redis_outage_at_commit_is_logged_not_raised() -> None:
    # A real client pointed at a closed loopback port: the connection is refused for real.
    down = ArqRedis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    buffer = JobBuffer(sender=JobQueue(down))
    buffer.add(PendingJob(ECHO, ("x",)))
    assert await buffer.flush() == 0
    assert buffer.pending == []
    await down.aclose()


async def test_a_heartbeat_lasts_as_long_as_its_block(redis_url: str) -> None:
    redis = aioredis.Redis.from_url(redis_url)
    try:
        async with heartbeat(redis, "handoffs:order-7"):
            ttl = await redis.pttl(ALIVE_PREFIX + "handoffs:order-7")
            assert 0 < ttl <= ALIVE_TTL_MS
        assert not await redis.exists(ALIVE_PREFIX + "handoffs:order-7")
    finally:
        await redis.aclose()
