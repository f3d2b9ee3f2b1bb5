"""The one way to enqueue a job: buffered on the database session, sent after it commits.

PostgreSQL is the system of record and Redis only rings the bell. A job whose bell is lost
(Redis down, process killed between commit and send) is found again by the sweepers, which
look at the rows themselves, so a failed send is logged and swallowed, never raised to the caller.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

log = logging.getLogger(__name__)

QUEUE_NAME = "phien:queue"


class JobSender(Protocol):
    """What can send a job (an arq pool satisfies it)."""

    async def enqueue_job(self, function: str, *args: Any, **kwargs: Any) -> Any: ...


@dataclass(frozen=True)
class PendingJob:
    """A job waiting for its transaction to commit."""

    function: str
    args: tuple[Any, ...]
    job_id: str | None = None
    defer_seconds: float | None = None


@dataclass
class JobBuffer:
    """Jobs recorded during a transaction; flushed on commit, dropped on rollback."""

    sender: JobSender | None
    pending: list[PendingJob] = field(default_factory=list)

    def add(self, job: PendingJob) -> None:
        """Remember a job until the transaction commits."""
        self.pending.append(job)

    def discard(self) -> None:
        """Forget the jobs of a rolled-back transaction."""
        self.pending.clear()

    async def flush(self) -> int:
        """Send the buffered jobs; return how many were sent. Never raises on a Redis fault."""
        jobs, self.pending = self.pending, []
        if self.sender is None:
            return 0
        sent = 0
        for job in jobs:
            try:
                await self.sender.enqueue_job(
                    job.function,
                    *job.args,
                    _job_id=job.job_id,
                    _defer_by=job.defer_seconds,
                    _queue_name=QUEUE_NAME,
                )
                sent += 1
            except Exception as exc:
                log.warning(
                    "enqueue failed; the sweeper will pick it up",
                    extra={"job": job.function, "error": type(exc).__name__},
                )
        return sent
