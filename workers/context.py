"""What every job receives in its context: the database and one shared HTTP client."""

from __future__ import annotations

import logging
from typing import Any, TypedDict

import httpx
from arq.connections import ArqRedis

from api.core.config import Settings, get_settings
from api.core.db import Database
from api.core.embedded import resolve_urls
from api.core.logging import configure_logging
from workers.queue import JobQueue

log = logging.getLogger(__name__)


class JobContext(TypedDict, total=False):
    """arq's ctx dict, with the keys our startup adds."""

    redis: ArqRedis
    db: Database
    http: httpx.AsyncClient
    job_try: int
    job_id: str


async def startup(ctx: dict[str, Any]) -> None:
    """Open the pools once per worker process."""
    settings: Settings = ctx.get("settings") or get_settings()
    if "settings" not in ctx:
        configure_logging(settings.log_level)
    db_url, _ = resolve_urls(settings.database_url, settings.redis_url, settings.var_dir)
    db = Database(db_url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow)
    ctx["queue"] = db.job_sender = JobQueue(ctx["redis"])
    ctx["db"] = db
    ctx["http"] = httpx.AsyncClient(
        timeout=httpx.Timeout(10.0, connect=3.0),
        # httpcore scans its whole pool on every request, so a small pool of kept-alive
        # connections is faster than one connection per concurrent job.
        limits=httpx.Limits(max_connections=32, max_keepalive_connections=32),
    )
    log.info("worker started")


async def shutdown(ctx: dict[str, Any]) -> None:
    """Close the pools."""
    await ctx["http"].aclose()
    await ctx["db"].dispose()
