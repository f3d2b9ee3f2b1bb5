"""Store a verified webhook once, and ring the worker's bell after the commit.

This is the acknowledgement hot path, so it is one statement on a plain asyncpg pool (no ORM,
no explicit transaction: the single INSERT commits by itself): `INSERT … ON CONFLICT DO NOTHING
RETURNING id`. A duplicate delivery inserts nothing and enqueues nothing. The enqueue is batched
by the Bell; if Redis is down the row is still committed and the answer is still 200, and the
sweeper finds unhandled rows and enqueues them again.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import asyncpg
import orjson

from api.core.jobs import Job
from api.core.queue import Bell, PendingJob
from api.webhooks.sources import CARRIER_SOURCES, PLATFORM_SOURCES

# Platform webhooks are drained in batches by up to this many concurrent jobs per source.
DRAIN_LANES = 2


@dataclass(frozen=True)
class Inbound:
    """A verified webhook about to be stored."""

    source: str
    event_key: str
    topic: str
    shop_id: str
    object_id: str | None
    raw_body: bytes
    headers: dict[str, str]


def drain_job(source: str, lane: int) -> PendingJob:
    """A batch drain of one source's inbox (while one is queued, more rings collapse into it)."""
    return PendingJob(Job.DRAIN_INBOX, (source, lane), job_id=f"drain:{source}:{lane}")


def process_job(source: str, event_id: int) -> PendingJob:
    """The job that handles a new inbox row: a batch drain, or a per-event job for carriers."""
    if source in PLATFORM_SOURCES:
        return drain_job(source, event_id % DRAIN_LANES)
    if source not in CARRIER_SOURCES:
        raise ValueError(f"unknown webhook source {source!r}")
    return PendingJob(Job.PROCESS_CARRIER_EVENT, (event_id,), job_id=f"inbound:{event_id}")


_INSERT_MANY = """
    INSERT INTO inbound_events
           (source, event_key, topic, shop_id, object_id, raw_body, headers, signature_valid)
    SELECT source, event_key, topic, shop_id, object_id, raw_body, headers::jsonb, true
      FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bytea[],
                  $7::text[])
           AS t(source, event_key, topic, shop_id, object_id, raw_body, headers)
    ON CONFLICT (source, event_key) DO NOTHING
    RETURNING id, source, event_key
"""


MAX_WRITERS = 2


class InboxWriter:
    """Stores webhooks arriving together with one INSERT and one commit (group commit).

    Under load, each request would otherwise pay its own round trip and WAL flush; here the
    requests of the last moment wait together for one multi-row INSERT, and each is answered
    only after that INSERT has committed, so an acknowledged webhook is always durable.
    """

    def __init__(self, pool: asyncpg.Pool, bell: Bell, max_batch: int = 256) -> None:
        self.pool = pool
        self.bell = bell
        self.max_batch = max_batch
        self._waiting: list[tuple[Inbound, asyncio.Future[bool]]] = []
        self._writers = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def submit(self, event: Inbound) -> bool:
        """Store the event (with whatever else is waiting); True if it was new."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((event, future))
        if self._writers < MAX_WRITERS:
            # Two writers: a request arriving while one batch commits starts the next at once
            # instead of waiting a whole commit for its turn (the tail latency).
            self._writers += 1
            task = asyncio.get_running_loop().create_task(self._drain())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await future

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch = self._waiting[: self.max_batch]
                self._waiting = self._waiting[self.max_batch :]
                await self._write(batch)
        finally:
            self._writers -= 1

    async def _write(self, batch: list[tuple[Inbound, asyncio.Future[bool]]]) -> None:
        events = [event for event, _ in batch]
        try:
            rows = await self.pool.fetch(
                _INSERT_MANY,
                [e.source for e in events],
                [e.event_key[:255] for e in events],
                [e.topic[:64] for e in events],
                [e.shop_id[:64] for e in events],
                [e.object_id[:128] if e.object_id else None for e in events],
                [e.raw_body for e in events],
                [orjson.dumps(e.headers).decode() for e in events],
            )
        except Exception as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        new = {(row["source"], row["event_key"]): int(row["id"]) for row in rows}
        for event, future in batch:
            event_id = new.pop((event.source, event.event_key[:255]), None)
            if event_id is not None:
                self.bell.ring(process_job(event.source, event_id))
            if not future.done():
                future.set_result(event_id is not None)
