"""Jobs that keep platform tokens alive: a cron sweep and one refresh per connection."""

from __future__ import annotations

import logging
from typing import Any

from arq import Retry

from api.channels import tokens
from api.core.config import Settings, get_settings
from api.core.db import Database, utcnow
from api.core.jobs import Job
from integrations.platforms import PlatformError

log = logging.getLogger(__name__)

MAX_RETRY_DEFER_S = 600


def refresh_job_id(connection_id: int) -> str:
    """One queued refresh per connection: a second enqueue with this id is dropped by arq."""
    return f"refresh-token:{connection_id}"


def retry_defer(job_try: int) -> int:
    """Seconds before retrying a transient failure: 30, 60, 120, … capped at 10 minutes."""
    return int(min(30 * 2 ** max(job_try - 1, 0), MAX_RETRY_DEFER_S))


async def refresh_expiring_tokens(ctx: dict[str, Any]) -> int:
    """Cron body: enqueue a refresh for every active connection whose token ends within 24 h."""
    db: Database = ctx["db"]
    async with db.session() as session:
        due = await tokens.due_for_refresh(session, utcnow())
        for connection_id in due:
            session.enqueue_after_commit(
                Job.REFRESH_CHANNEL_TOKEN, connection_id, job_id=refresh_job_id(connection_id)
            )
        await session.commit()
    log.info("token refreshes enqueued", extra={"count": len(due)})
    return len(due)


async def refresh_channel_token(ctx: dict[str, Any], connection_id: int) -> str:
    """Refresh one connection's tokens; safe to run twice and concurrently (row lock, skip)."""
    db: Database = ctx["db"]
    settings: Settings = ctx.get("settings") or get_settings()
    async with db.session() as session:
        try:
            outcome = await tokens.refresh_connection(session, ctx["http"], settings, connection_id)
        except PlatformError as exc:
            # Only transient errors get here; leaving the block rolls back and frees the row.
            defer = retry_defer(int(ctx.get("job_try", 1)))
            log.warning(
                "token refresh will be retried",
                extra={"connection_id": connection_id, "code": exc.code, "defer_s": defer},
            )
            raise Retry(defer=defer) from None
        await session.commit()
    return outcome.value
