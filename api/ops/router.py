"""/health, /ready and /metrics."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

router = APIRouter(tags=["operations"])
log = logging.getLogger(__name__)


@router.get("/health")
async def health() -> dict[str, str]:
    """The process is alive (no dependency checked)."""
    return {"status": "ok"}


async def _check_database(request: Request) -> str | None:
    try:
        async with request.app.state.db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:
        return type(exc).__name__
    return None


async def _check_redis(request: Request) -> str | None:
    try:
        await request.app.state.redis.ping()
    except Exception as exc:
        return type(exc).__name__
    return None


@router.get("/ready")
async def ready(request: Request) -> JSONResponse:
    """PostgreSQL and Redis both answer within 2 s (503 otherwise, saying which failed)."""
    checks: dict[str, str | None] = {}
    for name, check in (("database", _check_database), ("redis", _check_redis)):
        try:
            checks[name] = await asyncio.wait_for(check(request), timeout=2)
        except TimeoutError:
            checks[name] = "timeout"
    failed = {k: v for k, v in checks.items() if v}
    if failed:
        log.warning("not ready", extra={"failed": failed})
        return JSONResponse({"status": "unavailable", "failed": failed}, status_code=503)
    return JSONResponse({"status": "ready", "database": "ok", "redis": "ok"})


@router.get("/metrics")
async def metrics() -> Response:
    """Prometheus text exposition."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
