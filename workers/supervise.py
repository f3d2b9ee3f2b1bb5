"""Keep an arq worker running through Redis restarts, and stop it within a bounded time.

arq's poll loop does not survive a lost Redis connection: `Worker.async_run()` raises and the
worker is gone. Both `phien serve` and `phien worker` run theirs under `supervise`, which builds a
fresh worker and starts it again with backoff, so a Redis restart costs a second or two. A
standalone `phien worker` whose workers keep failing for WORKER_GIVE_UP_AFTER_SECONDS exits
non-zero instead, so that its own supervisor (systemd, compose `restart:`) takes over.

Every worker marks "I polled the queue" in Redis (`PhienWorker.heart_beat`), which `/ready`
reads: a worker that stopped polling is reported, not silently assumed alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable

from arq.worker import Worker

from api.core.queue import WORKER_POLLED_PREFIX, WORKER_POLLED_TTL_S

log = logging.getLogger(__name__)

# Closing a worker talks to Redis (arq deletes its health key): never wait for a dead one longer.
CLOSE_TIMEOUT_S = 5.0
BEAT_EVERY_S = 5.0
RESTART_BACKOFF_S = (0.5, 1.0, 2.0, 5.0, 10.0)
# A worker that ran this long before failing starts the backoff over.
HEALTHY_RUN_S = 60.0


def new_worker_name() -> str:
    """A name unique to one worker: host, process and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class PhienWorker(Worker):
    """arq's Worker, which also says in Redis that it polled the queue (at most every 5 s)."""

    def __init__(self, *args: object, name: str, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.name = name
        self._last_beat = 0.0

    async def heart_beat(self) -> None:
        """arq's own beat (health key, crons), then ours."""
        await super().heart_beat()
        now = time.monotonic()
        if now - self._last_beat >= BEAT_EVERY_S:
            self._last_beat = now
            await self.pool.set(
                WORKER_POLLED_PREFIX + self.name, str(int(time.time())), ex=WORKER_POLLED_TTL_S
            )


async def close_worker(worker: Worker) -> None:
    """Close a worker, giving up after CLOSE_TIMEOUT_S (its Redis may be gone)."""
    try:
        await asyncio.wait_for(worker.close(), CLOSE_TIMEOUT_S)
    except Exception as exc:  # a dead Redis: nothing left to tidy there
        log.warning("worker not closed cleanly", extra={"error": type(exc).__name__})


async def run_once(worker: Worker) -> None:
    """Run a worker until it stops or fails, and close it either way (bounded)."""
    try:
        await worker.async_run()
    finally:
        await close_worker(worker)


class GaveUp(Exception):
    """Workers kept failing for longer than the supervisor was told to wait."""


async def supervise(
    make: Callable[[], Worker], stop: asyncio.Event, give_up_after_s: float | None = None
) -> None:
    """Run workers made by `make` until `stop` is set; a failed one is replaced after a pause.

    With `give_up_after_s`, raise GaveUp once workers have failed for that long in a row.
    """
    failures, failing_since = 0, None
    while not stop.is_set():
        worker, started = make(), time.monotonic()
        run = asyncio.create_task(run_once(worker))
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({run, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if stop.is_set():
            run.cancel()
            with contextlib.suppress(BaseException):
                await run
            return
        error = run.exception() if not run.cancelled() else None
        healthy = time.monotonic() - started > HEALTHY_RUN_S
        failures = 1 if healthy else failures + 1
        failing_since = time.monotonic() if healthy or failing_since is None else failing_since
        if give_up_after_s is not None and time.monotonic() - failing_since >= give_up_after_s:
            raise GaveUp(f"workers failed for {give_up_after_s:.0f} s") from error
        pause = RESTART_BACKOFF_S[min(failures, len(RESTART_BACKOFF_S)) - 1]
        reason = type(error).__name__ if error else "stopped"
        log.error("worker stopped; starting a new one", extra={"error": reason, "in_s": pause})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), pause)
