"""What every job receives in its context: settings, the database, the HTTP and carrier clients."""

from __future__ import annotations

import logging
from typing import Any, TypedDict

import httpx
from arq.connections import ArqRedis

from api.core import encryption
from api.core.clients import CarrierClients, payments_client
from api.core.config import Settings, get_settings
from api.core.db import Database
from api.core.embedded import resolve_urls
from api.core.logging import configure_logging
from api.core.queue import JobQueue
from api.shipments.models import CARRIERS

log = logging.getLogger(__name__)

# Jobs one worker runs at once (WorkerSettings.max_jobs); its database pool covers them all.
MAX_JOBS = 50


class JobContext(TypedDict, total=False):
    """arq's ctx dict, with the keys our startup adds."""

    redis: ArqRedis
    db: Database
    http: httpx.AsyncClient
    job_try: int
    job_id: str
    carriers: CarrierClients


def settings_of(ctx: dict[str, Any]) -> Settings:
    """The settings the worker was started with."""
    settings: Settings = ctx.get("settings") or get_settings()
    return settings


async def startup(ctx: dict[str, Any]) -> None:
    """Open the pools and the carrier clients once per worker process."""
    settings = settings_of(ctx)
    if "settings" not in ctx:
        configure_logging(settings.log_level)
    encryption.configure(settings)
    db_url, _ = resolve_urls(settings.database_url, settings.redis_url, settings.var_dir)
    pool_size = settings.pool_size_for(MAX_JOBS)
    db = Database(db_url, pool_size=pool_size, max_overflow=settings.db_max_overflow)
    ctx["queue"] = db.job_sender = JobQueue(ctx["redis"])
    ctx["db"] = db
    ctx["http"] = httpx.AsyncClient(
        timeout=httpx.Timeout(10.0, connect=3.0),
        # httpcore scans its whole pool on every request, so a small pool of kept-alive
        # connections is faster than one connection per concurrent job.
        limits=httpx.Limits(max_connections=32, max_keepalive_connections=32),
    )
    open_carriers(ctx, settings)
    # Made once, like the carriers': a client per job would die with the job's copy of ctx.
    ctx["payments"] = payments_client(settings)
    log.info("worker started")


async def shutdown(ctx: dict[str, Any]) -> None:
    """Close the pools."""
    clients = ctx.pop("carriers", None)
    if isinstance(clients, CarrierClients):
        await clients.aclose()
    payments = ctx.pop("payments", None)
    if payments is not None:
        await payments.aclose()
    await ctx["http"].aclose()
    await ctx["db"].dispose()


def open_carriers(ctx: dict[str, Any], settings: Settings) -> None:
    """Make the worker's carrier clients at startup (no network until the first call)."""
    clients = ctx["carriers"] = CarrierClients(settings)
    for carrier in CARRIERS:
        if clients.missing_config(carrier) is None:
            clients.get(carrier)  # its connection lanes now, not in the first booking


def carriers_of(ctx: dict[str, Any]) -> CarrierClients:
    """The worker process's carrier clients, made at startup.

    arq hands every job a copy of the worker's ctx, so clients made inside a job would die with
    it (and log in again on the next one): they must exist before the first job.
    """
    clients = ctx.get("carriers")
    if not isinstance(clients, CarrierClients):
        raise RuntimeError("worker started without carrier clients: use workers.settings")
    return clients
