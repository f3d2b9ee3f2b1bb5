"""Propose tomorrow's pickup batches once the day's cut-off has passed (a cron, safe to repeat)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from api.batches.membership import LOCAL_TZ
from api.batches.proposals import proposal_day
from api.batches.proposals import propose_batches as propose
from workers.context import settings_of

log = logging.getLogger(__name__)


async def propose_batches(ctx: dict[str, Any], at: str | None = None) -> int:
    """Before BATCH_CUTOFF (local time) nothing; after it, tomorrow's batches for every
    cooperative and carrier with booked parcels waiting. `at` (ISO datetime) stands in for now
    when an operator or a test rings the job. How many batches it created."""
    settings = settings_of(ctx)
    now = datetime.fromisoformat(at) if at else datetime.now(LOCAL_TZ)
    if now.tzinfo is None:
        now = now.replace(tzinfo=LOCAL_TZ)
    day = proposal_day(now, settings.batch_cutoff_time())
    if day is None:
        return 0
    start, end = settings.batch_window_times()
    async with ctx["db"].session() as session:
        created = await propose(session, pickup_date=day, window_start=start, window_end=end)
        await session.commit()
    if created:
        log.info("pickup batches proposed", extra={"batches": len(created), "day": str(day)})
    return len(created)
