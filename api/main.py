"""The FastAPI application: routers, middleware, and the lifespan that owns the pools."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from arq.connections import ArqRedis, RedisSettings, create_pool
from fastapi import APIRouter, FastAPI

from api.accounts.router import router as users_router
from api.catalogue.router import router as products_router
from api.cooperatives.router import router as cooperatives_router
from api.core.config import Settings, get_settings
from api.core.db import Database
from api.core.embedded import resolve_urls
from api.core.handlers import install_error_handlers
from api.core.middleware import RequestContextMiddleware
from api.ops.router import router as ops_router
from workers.serialization import deserialize, serialize


def api_v1() -> APIRouter:
    """Every REST router under /api/v1."""
    router = APIRouter(prefix="/api/v1")
    for sub in (cooperatives_router, users_router, products_router):
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


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application; the lifespan connects to PostgreSQL and Redis."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db_url, redis_url = resolve_urls(
            settings.database_url, settings.redis_url, settings.var_dir
        )
        db = Database(
            db_url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow
        )
        redis = await open_redis(redis_url)
        db.job_sender = redis
        app.state.db, app.state.redis, app.state.settings = db, redis, settings
        try:
            yield
        finally:
            await redis.aclose()
            await db.dispose()

    app = FastAPI(
        title="Phiên",
        version="0.1.0",
        summary="Livestream sales for farmer cooperatives, from webhook to carrier hand-off",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.include_router(ops_router)
    app.include_router(api_v1())
    app.add_middleware(RequestContextMiddleware, max_body_bytes=settings.max_body_bytes)
    return app
