"""The FastAPI application: routers, middleware, and the lifespan that owns the pools."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx
from arq.connections import ArqRedis, RedisSettings, create_pool
from fastapi import APIRouter, Depends, FastAPI

from api.accounts.router import router as users_router
from api.catalogue.router import router as products_router
from api.channels.router import router as channels_router
from api.checkout.router import router as checkout_router
from api.cooperatives.router import router as cooperatives_router
from api.core import encryption
from api.core.clients import payments_client
from api.core.config import Settings, get_settings
from api.core.db import Database
from api.core.deps import rate_limit
from api.core.embedded import resolve_urls
from api.core.handlers import install_error_handlers
from api.core.middleware import RequestContextMiddleware
from api.core.queue import Bell, JobQueue
from api.core.ratelimit import RateLimits
from api.core.serialization import deserialize, serialize
from api.live_sessions.router import router as live_sessions_router
from api.ops.docs import install_docs
from api.ops.openapi import add_error_responses
from api.ops.router import router as ops_router
from api.orders.router import router as orders_router
from api.reports.router import router as reports_router
from api.shipments.router import router as shipments_router
from api.web.pages import install_pages
from api.webhooks.inbox import InboxWriter
from api.webhooks.openapi import webhook_paths
from api.webhooks.receive import WebhookLane
from api.webhooks.router import router as inbound_events_router
from api.webhooks.verify import WebhookContext


def api_v1() -> APIRouter:
    """Every REST router under /api/v1."""
    router = APIRouter(prefix="/api/v1", dependencies=[Depends(rate_limit)])
    for sub in (
        cooperatives_router,
        users_router,
        products_router,
        orders_router,
        channels_router,
        live_sessions_router,
        shipments_router,
        inbound_events_router,
        reports_router,
        checkout_router,
    ):
        router.include_router(sub)
    return router


async def open_redis(redis_url: str) -> ArqRedis:
    """An arq pool that fails fast: a Redis outage must not hold up webhook answers."""
    settings = RedisSettings.from_dsn(redis_url)
    settings.conn_timeout = 1
    settings.conn_retries = 0
    pool: ArqRedis = await create_pool(
        settings, job_serializer=serialize, job_deserializer=deserialize
    )
    return pool


async def open_inbox_pool(db_url: str, size: int) -> asyncpg.Pool:
    """A plain asyncpg pool for the webhook inbox: one statement per webhook, no ORM."""
    dsn = db_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    pool: asyncpg.Pool = await asyncpg.create_pool(
        dsn,
        min_size=2,
        max_size=size,
        server_settings={"application_name": "phien-inbox"},
        reset=_keep_session,
    )
    return pool


async def _keep_session(_: asyncpg.Connection) -> None:
    # The inbox only runs self-committing INSERTs (no locks, LISTEN or SET), so asyncpg's
    # per-release "RESET ALL; UNLISTEN *; …" round trip has nothing to undo.
    return None


def _document_webhooks(app: FastAPI) -> None:
    """Add the lane's webhook endpoints to the generated OpenAPI document."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            schema["paths"] = {**webhook_paths(), **schema["paths"]}
            add_error_responses(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application; the lifespan connects to PostgreSQL and Redis."""
    settings = settings or get_settings()
    # Before the first request: every token read or written goes through these keys.
    encryption.configure(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db_url, redis_url = resolve_urls(
            settings.database_url, settings.redis_url, settings.var_dir
        )
        db = Database(
            db_url,
            pool_size=settings.pool_size_for(),
            max_overflow=settings.db_max_overflow,
            pool_timeout=settings.db_pool_timeout_seconds,
        )
        redis = await open_redis(redis_url)
        db.job_sender = JobQueue(redis)
        bell = Bell(db.job_sender)
        inbox_pool = await open_inbox_pool(db_url, settings.pool_size_for())
        await bell.start()
        # Everything allocated so far lives as long as the process: keep it out of the
        # collector's sweeps, which otherwise show up as pauses in webhook tail latency.
        gc.collect()
        gc.freeze()
        app.state.db, app.state.redis, app.state.settings = db, redis, settings
        app.state.bell, app.state.inbox = bell, InboxWriter(inbox_pool, bell)
        # Platform calls made while a person waits (the authorisation callback).
        app.state.platform_http = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=3.0))
        # Stripe (or its simulator) for the direct checkout; None while STRIPE_API_KEY is unset.
        app.state.payments = payments_client(settings)
        app.state.rate_limits = (
            RateLimits(
                redis_url, settings.rate_limit_per_address, settings.rate_limit_writes_per_token
            )
            if settings.rate_limits_enabled
            else None
        )
        try:
            yield
        finally:
            await app.state.platform_http.aclose()
            if app.state.payments is not None:
                await app.state.payments.aclose()
            await bell.stop()
            await inbox_pool.close()
            await redis.aclose()
            await db.dispose()

    app = FastAPI(
        title="Phiên",
        version="0.1.0",
        summary="Livestream sales for farmer cooperatives, from webhook to carrier hand-off",
        lifespan=lifespan,
        docs_url=None,  # served offline by api/ops/docs.py
        redoc_url=None,
    )
    install_error_handlers(app)
    _document_webhooks(app)
    app.include_router(ops_router)
    install_docs(app)
    app.include_router(api_v1())
    install_pages(app)
    app.add_middleware(
        WebhookLane, context=lambda: WebhookContext(app.state.settings, app.state.inbox)
    )
    app.add_middleware(RequestContextMiddleware, max_body_bytes=settings.max_body_bytes)
    return app
