"""Jobs leave only after their transaction commits, and a real arq worker runs them."""

from __future__ import annotations

import logging

import pytest
import redis.asyncio as aioredis
from arq.connections import ArqRedis

from api.core.config import Settings
from api.core.db import Database
from workers.queue import (
    ALIVE_PREFIX,
    ALIVE_TTL_MS,
    QUEUE_NAME,
    JobBuffer,
    JobQueue,
    PendingJob,
    heartbeat,
)
from workers.settings import create_worker


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


async def test_job_is_sent_after_commit_and_runs_in_a_burst_worker(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="workers.tasks")
    database = await _database_with_queue(settings)
    async with database.session() as session:
        session.enqueue_after_commit("noop", "hello", job_id="noop-1")
        assert await _queued(settings.redis_url or "") == 0
        await session.commit()
    assert await _queued(settings.redis_url or "") == 1
    worker = create_worker(burst=True, handle_signals=False, settings=settings)
    await worker.main()
    await worker.close()
    assert worker.jobs_failed == 0
    assert [r.marker for r in caplog.records if r.getMessage() == "noop ran"] == ["hello"]  # type: ignore[attr-defined]
    assert await _queued(settings.redis_url or "") == 0
    await database.dispose()


async def test_rolled_back_transaction_sends_nothing(settings: Settings) -> None:
    database = await _database_with_queue(settings)
    async with database.session() as session:
        session.enqueue_after_commit("noop", "never")
        await session.rollback()
        await session.commit()
    assert await _queued(settings.redis_url or "") == 0
    await database.dispose()


async def test_a_redis_outage_at_commit_is_logged_not_raised() -> None:
    # A real client pointed at a closed loopback port: the connection is refused for real.
    down = ArqRedis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    buffer = JobBuffer(sender=JobQueue(down))
    buffer.add(PendingJob("noop", ("x",)))
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
