"""Store a verified webhook once, and ring the worker's bell after the commit.

This is the acknowledgement hot path, so it is one statement on a plain asyncpg pool (no ORM,
no explicit transaction: the single INSERT commits by itself): `INSERT … ON CONFLICT DO NOTHING
RETURNING id`. A duplicate delivery inserts nothing and enqueues nothing. The enqueue is batched
by the Bell; if Redis is down the row is still committed and the answer is still 200, and the
sweeper finds unhandled rows and enqueues them again.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass

import asyncpg
import orjson

from api.core.jobs import Job
from api.core.limits import (
    ERROR_MAX,
    EVENT_KEY_MAX,
    OBJECT_ID_MAX,
    PLATFORM_ORDER_ID_MAX,
    SHOP_ID_MAX,
    TOPIC_MAX,
    storable_text,
    unstorable,
)
from api.core.queue import Bell, PendingJob
from api.webhooks.sources import CARRIER_SOURCES, PAYMENT_SOURCES, PLATFORM_SOURCES

log = logging.getLogger(__name__)

# Set (best effort) when a webhook could not be stored and was answered 503: the platform resends
# it only minutes or hours later, so the worker runs a reconciliation pull once the inbox works.
REFUSED_KEY = "phien:inbox:refused"

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
    # Set when no later code could handle it (an id too long for its column): stored parked.
    park_reason: str | None = None

    def checked(self) -> Inbound:
        """This event, parked at the door when an id it carries could never be stored."""
        # A platform's object is its order, whose id the orders table keeps.
        limit = PLATFORM_ORDER_ID_MAX if self.source in PLATFORM_SOURCES else OBJECT_ID_MAX
        reason = unstorable("shop_id", self.shop_id, SHOP_ID_MAX) or unstorable(
            "object id", self.object_id, limit
        )
        if reason is None or self.park_reason is not None:
            return self
        return Inbound(
            self.source, self.event_key, self.topic, self.shop_id[:SHOP_ID_MAX],
            self.object_id[:OBJECT_ID_MAX] if self.object_id else None,
            self.raw_body, self.headers, reason,
        )  # fmt: skip

    def stored_key(self) -> str:
        """The event key as the row keeps it: a key too long for its column becomes its hash."""
        key = storable_text(self.event_key)
        if len(key) <= EVENT_KEY_MAX:
            return key
        return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def drain_job(source: str, lane: int) -> PendingJob:
    """A batch drain of one source's inbox (while one is queued, more rings collapse into it)."""
    return PendingJob(Job.DRAIN_INBOX, (source, lane), job_id=f"drain:{source}:{lane}")


def process_job(source: str, event_id: int) -> PendingJob:
    """The job that handles a new inbox row: a batch drain, or a per-event job for carriers."""
    if source in PLATFORM_SOURCES:
        return drain_job(source, event_id % DRAIN_LANES)
    if source in PAYMENT_SOURCES:
        return PendingJob(Job.PROCESS_STRIPE_EVENT, (event_id,), job_id=f"inbound:{event_id}")
    if source not in CARRIER_SOURCES:
        raise ValueError(f"unknown webhook source {source!r}")
    return PendingJob(Job.PROCESS_CARRIER_EVENT, (event_id,), job_id=f"inbound:{event_id}")


_INSERT_MANY = """
    INSERT INTO inbound_events
           (source, event_key, topic, shop_id, object_id, raw_body, headers, signature_valid,
            parked_at, last_error, outcome)
    SELECT source, event_key, topic, shop_id, object_id, raw_body, headers::jsonb, true,
           CASE WHEN park IS NULL THEN NULL ELSE now() END, park,
           CASE WHEN park IS NULL THEN NULL ELSE 'refused' END
      FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bytea[],
                  $7::text[], $8::text[])
           AS t(source, event_key, topic, shop_id, object_id, raw_body, headers, park)
    ON CONFLICT (source, event_key) DO NOTHING
    RETURNING id, source, event_key
"""


def _columns(events: list[Inbound]) -> list[list[str | bytes | None]]:
    # NUL is the one character PostgreSQL refuses in text and jsonb; the raw body is bytea.
    def text(value: str | None, limit: int) -> str | None:
        return None if value is None else storable_text(value)[:limit]

    return [
        [e.source for e in events],
        [e.stored_key() for e in events],
        [text(e.topic, TOPIC_MAX) for e in events],
        [text(e.shop_id, SHOP_ID_MAX) for e in events],
        [text(e.object_id, OBJECT_ID_MAX) for e in events],
        [e.raw_body for e in events],
        [
            orjson.dumps({k: storable_text(v) for k, v in e.headers.items()}).decode()
            for e in events
        ],
        [text(e.park_reason, ERROR_MAX) for e in events],
    ]


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
        self._noting: asyncio.Task[None] | None = None

    def note_refused(self) -> None:
        """Remember that a webhook was refused (one Redis write at a time; never raises)."""
        if self._noting is None or self._noting.done():
            self._noting = asyncio.get_running_loop().create_task(self._note_refused())

    async def _note_refused(self) -> None:
        try:
            await self.bell.queue.redis.set(REFUSED_KEY, b"1", ex=86_400)
        except Exception as exc:  # Redis down too: the 5-minute reconcile still comes
            log.warning("could not note a refused webhook", extra={"error": type(exc).__name__})

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
            rows = await self.pool.fetch(_INSERT_MANY, *_columns(events))
        except Exception as exc:
            if len(batch) > 1:
                # One row the database refuses must not fail its neighbours: each on its own.
                log.warning("group insert failed; storing its rows one by one",
                            extra={"rows": len(batch), "error": type(exc).__name__})  # fmt: skip
                for item in batch:
                    await self._write([item])
                return
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        new = {(row["source"], row["event_key"]): int(row["id"]) for row in rows}
        for event, future in batch:
            event_id = new.pop((event.source, event.stored_key()), None)
            if event_id is not None and event.park_reason is None:
                self.bell.ring(process_job(event.source, event_id))
            if not future.done():
                future.set_result(event_id is not None)
