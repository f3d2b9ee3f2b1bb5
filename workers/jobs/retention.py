"""Daily: empty raw webhook bodies older than WEBHOOK_BODY_RETENTION_DAYS (keys stay)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from api.webhooks.retention import purge_old_bodies
from workers.context import settings_of

log = logging.getLogger(__name__)
# Short transactions: a purge never holds many inbox rows locked against the drain.
BATCH = 5000
MAX_BATCHES = 200


async def purge_webhook_bodies(ctx: dict[str, Any]) -> int:
    """Empty old bodies a batch per transaction, up to a bounded amount per run."""
    keep = timedelta(days=settings_of(ctx).webhook_body_retention_days)
    purged = 0
    for _ in range(MAX_BATCHES):
        async with ctx["db"].session() as session:
            count = await purge_old_bodies(session, keep, BATCH)
            await session.commit()
        purged += count
        if count < BATCH:
            break
    if purged:
        log.info("webhook bodies purged", extra={"rows": purged, "days": keep.days})
    return purged
