"""A running job says it is alive, so the sweepers can tell a busy worker from a dead one.

arq marks a job "in progress" for IN_PROGRESS_MARK_S (job timeout + 10 s) and will not run it
again before that mark expires, even when its worker was killed at once. A job that beats here
every second lets a sweeper rescue its rows within ALIVE_TTL_MS instead.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from redis.asyncio import Redis

# A job that says it is running: arq's in-progress mark outlives a killed
# worker by up to IN_PROGRESS_MARK_S, this one by at most ALIVE_TTL_MS.
ALIVE_PREFIX = "phien:alive:"
ALIVE_EVERY_S = 1.0
ALIVE_TTL_MS = 3_000


@contextlib.asynccontextmanager
async def heartbeat(redis: Redis, job_id: str | None) -> AsyncIterator[None]:
    """Say "this job is alive" every second while the block runs (a missed beat is harmless)."""
    if not job_id:
        yield
        return
    key = ALIVE_PREFIX + job_id

    async def beat() -> None:
        with contextlib.suppress(Exception):  # Redis down: the sweeper may rescue, safely
            await redis.set(key, b"1", px=ALIVE_TTL_MS)

    async def keep_beating() -> None:
        while True:
            await asyncio.sleep(ALIVE_EVERY_S)
            await beat()

    await beat()  # alive before the block starts, not a tick later
    task = asyncio.create_task(keep_beating())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
        with contextlib.suppress(Exception):
            await redis.delete(key)
