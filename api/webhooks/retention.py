"""Raw webhook bodies carry buyers' names, phones and addresses: they are kept for a while only.

Past the retention the body and headers are emptied; the row stays with its source and event
key, so a platform retrying an old event is still recognised as a duplicate, and its topic,
shop, outcome and times stay as the audit trail. An emptied row cannot be replayed.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_PURGE = text(
    """
    UPDATE inbound_events SET raw_body = '\\x'::bytea, headers = '{}'::jsonb
     WHERE id IN (SELECT id FROM inbound_events
                   WHERE octet_length(raw_body) > 0
                     AND received_at < now() - CAST(:keep AS interval)
                   ORDER BY received_at LIMIT :batch
                   FOR UPDATE SKIP LOCKED)
    """
)


async def purge_old_bodies(session: AsyncSession, keep: timedelta, batch: int = 5000) -> int:
    """Empty the bodies of up to `batch` rows received more than `keep` ago; how many."""
    result = await session.execute(_PURGE, {"keep": keep, "batch": batch})
    return int(result.rowcount)  # type: ignore[attr-defined]
