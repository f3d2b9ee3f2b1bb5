"""The one way to enqueue a job: sent only after the database commit, in one Redis round trip.

PostgreSQL is the system of record and Redis only rings the bell. A job whose bell is lost
(Redis down, process killed between commit and send) is found again by the sweepers, which
look at the rows themselves, so a failed send is logged and swallowed, never raised to callers.

Jobs are written in arq's own format (arq workers run them unchanged), but several at a time by
one Lua script instead of arq's WATCH/MULTI per job: the webhook acknowledgement path enqueues
thousands per second, and per-job round trips were most of its cost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from arq.constants import expires_extra_ms, job_key_prefix, result_key_prefix
from arq.jobs import serialize_job
from redis.asyncio import Redis

from api.core.serialization import serialize

log = logging.getLogger(__name__)

QUEUE_NAME = "phien:queue"
# Every job's time limit (no function sets its own). arq marks a running job "in progress" for
# the longest job timeout + 10 s, and will not run it again before that mark expires.
JOB_TIMEOUT_S = 60
IN_PROGRESS_MARK_S = JOB_TIMEOUT_S + 10
# Each worker says "I polled the queue" under this prefix + its name. A busy worker polls only
# between starting jobs, which may take up to a job timeout: the mark lasts longer than that.
WORKER_POLLED_PREFIX = "phien:worker:"
WORKER_POLLED_TTL_S = JOB_TIMEOUT_S + 30
# ARGV: expiry ms, then (job id, score, payload) per job. A job id already queued, running or
# with a result is skipped, exactly as arq's enqueue_job would return None for it.
_ENQUEUE_LUA = f"""
local added = 0
for i = 2, #ARGV, 3 do
  local id = ARGV[i]
  if redis.call('EXISTS', '{result_key_prefix}' .. id) == 0 then
    if redis.call('SET', '{job_key_prefix}' .. id, ARGV[i + 2], 'NX', 'PX', ARGV[1]) then
      redis.call('ZADD', KEYS[1], ARGV[i + 1], id)
      added = added + 1
    end
  end
end
return added
"""


@dataclass(frozen=True)
class PendingJob:
    """A job waiting for its transaction to commit."""

    function: str
    args: tuple[Any, ...]
    job_id: str | None = None
    defer_seconds: float | None = None


class JobQueue:
    """Sends jobs to the arq queue in Redis."""

    def __init__(self, redis: Redis, queue_name: str = QUEUE_NAME) -> None:
        self.redis = redis
        self.queue_name = queue_name
        self._script = redis.register_script(_ENQUEUE_LUA)

    async def send(self, jobs: Sequence[PendingJob]) -> int:
        """Enqueue jobs in one round trip; return how many were new. Raises on a Redis fault."""
        if not jobs:
            return 0
        now_ms = int(time.time() * 1000)
        argv: list[Any] = [expires_extra_ms]
        for job in jobs:
            defer_ms = int((job.defer_seconds or 0) * 1000)
            payload = serialize_job(job.function, job.args, {}, None, now_ms, serializer=serialize)
            argv += [job.job_id or uuid.uuid4().hex, now_ms + defer_ms, payload]
        added = await self._script(keys=[self.queue_name], args=argv)
        return int(added)


@dataclass
class JobBuffer:
    """Jobs recorded during a transaction; flushed on commit, dropped on rollback."""

    sender: JobQueue | None
    pending: list[PendingJob] = field(default_factory=list)

    def add(self, job: PendingJob) -> None:
        """Remember a job until the transaction commits."""
        self.pending.append(job)

    def discard(self) -> None:
        """Forget the jobs of a rolled-back transaction."""
        self.pending.clear()

    async def flush(self) -> int:
        """Send the buffered jobs; return how many were new. Never raises on a Redis fault."""
        jobs, self.pending = self.pending, []
        if self.sender is None or not jobs:
            return 0
        try:
            return await self.sender.send(jobs)
        except Exception as exc:
            log.warning(
                "enqueue failed; the sweeper will pick it up",
                extra={"jobs": len(jobs), "first": jobs[0].function, "error": type(exc).__name__},
            )
            return 0


class Bell:
    """Batches jobs from many concurrent requests into one send every few milliseconds.

    The webhook handler has already committed its row when it rings, so a job lost here (a
    crash before the next flush, Redis down) is still found by the sweeper.
    """

    def __init__(self, queue: JobQueue, interval: float = 0.002, max_batch: int = 500) -> None:
        self.queue = queue
        self.interval = interval
        self.max_batch = max_batch
        self._pending: list[PendingJob] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def ring(self, job: PendingJob) -> None:
        """Queue a job for the next batch (never blocks, never raises)."""
        self._pending.append(job)
        self._wake.set()

    async def start(self) -> None:
        """Start the background sender."""
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Send what is pending and stop."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._send_pending()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await asyncio.sleep(self.interval)
            await self._send_pending()

    async def _send_pending(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
            await JobBuffer(self.queue, batch).flush()
