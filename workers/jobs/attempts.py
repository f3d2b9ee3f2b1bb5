"""How often an inbox row is tried before it is parked for a person, and how long between tries.

A platform outage is waited out (many tries, backing off to ten minutes); anything else that
fails the same row again and again (a bug, input no code can take, a shop whose token the
platform refuses) is parked after a few tries, with its error, so it stops costing every drain.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlmodel import col

from api.core.db import PhienSession, utcnow
from api.core.limits import ERROR_MAX
from api.webhooks.models import InboundEvent

# Outages: 25 tries back off to 10 minutes apart, about three hours in all.
OUTAGE_ATTEMPTS = 25
# Anything else: five tries over about a minute.
POISON_ATTEMPTS = 5


async def take_open(session: PhienSession, event_id: int) -> InboundEvent | None:
    """The inbox row, locked, if it is still open (neither handled nor parked) and no other
    worker holds it; else None."""
    row = await session.execute(
        select(InboundEvent)
        .where(
            col(InboundEvent.id) == event_id,
            col(InboundEvent.handled_at).is_(None),
            col(InboundEvent.parked_at).is_(None),
        )
        .with_for_update(skip_locked=True)
    )
    return row.scalar_one_or_none()


def retry_delay(attempts: int) -> float:
    """Seconds to wait before try number `attempts + 1`."""
    return float(min(2**attempts, 600))


def record_done(event: InboundEvent, outcome: str) -> None:
    """The row was handled (whatever it concluded): never taken again."""
    event.handled_at = utcnow()
    event.outcome = outcome
    event.attempts += 1
    event.retry_after = None


def park(event: InboundEvent, reason: str) -> None:
    """Give up on the row: it waits, with its reason, for a person to replay it."""
    event.parked_at = utcnow()
    event.outcome = "failed"
    event.last_error = reason[:ERROR_MAX]
    event.retry_after = None


def record_failure(event: InboundEvent, error: str, *, limit: int = POISON_ATTEMPTS) -> None:
    """One more failed try: back off, or park the row once it has failed `limit` times."""
    event.attempts += 1
    if event.attempts >= limit:
        park(event, error)
        return
    event.last_error = error[:ERROR_MAX]
    event.retry_after = utcnow() + timedelta(seconds=retry_delay(event.attempts))
