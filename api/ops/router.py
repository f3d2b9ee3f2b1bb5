"""/health, /ready and /metrics."""

from __future__ import annotations

import asyncio
import hmac
import logging

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from api.core.queue import WORKER_POLLED_PREFIX

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


async def _check_worker(request: Request) -> str | None:
    # `phien serve` names its own worker; an API-only process may be told to want any worker.
    name = getattr(request.app.state, "worker_name", None)
    try:
        if name is not None:
            polled = await request.app.state.redis.exists(WORKER_POLLED_PREFIX + name)
        elif request.app.state.settings.ready_requires_worker:
            keys = request.app.state.redis.scan_iter(match=WORKER_POLLED_PREFIX + "*", count=100)
            polled = await anext(aiter(keys), None) is not None
        else:
            return None
    except Exception as exc:
        return type(exc).__name__
    return None if polled else "no worker polled the queue lately"


_READY = {
    "type": "object",
    "required": ["status"],
    "properties": {
        "status": {"type": "string"},
        "database": {"type": "string"},
        "redis": {"type": "string"},
        "worker": {"type": "string"},
        "failed": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


@router.get(
    "/ready",
    responses={
        200: {"description": "Both answer", "content": {"application/json": {"schema": _READY}}},
        503: {
            "description": "One of them does not (which, and why)",
            "content": {"application/json": {"schema": _READY}},
        },
    },
)
async def ready(request: Request) -> JSONResponse:
    """PostgreSQL and Redis answer within 2 s and a worker polls the queue (503 says which not)."""
    checks: dict[str, str | None] = {}
    for name, check in (
        ("database", _check_database),
        ("redis", _check_redis),
        ("worker", _check_worker),
    ):
        try:
            checks[name] = await asyncio.wait_for(check(request), timeout=2)
        except TimeoutError:
            checks[name] = "timeout"
    failed = {k: v for k, v in checks.items() if v}
    if failed:
        log.warning("not ready", extra={"failed": failed})
        return JSONResponse({"status": "unavailable", "failed": failed}, status_code=503)
    body = {"status": "ready", "database": "ok", "redis": "ok"}
    return JSONResponse(body | ({"worker": "ok"} if _wants_worker(request) else {}))


def _wants_worker(request: Request) -> bool:
    state = request.app.state
    return getattr(state, "worker_name", None) is not None or state.settings.ready_requires_worker


def _metrics_allowed(request: Request) -> bool:
    settings = request.app.state.settings
    token = settings.metrics_token.get_secret_value()
    if not token:
        # Only outside production (production refuses to start without METRICS_TOKEN).
        return bool(settings.environment != "production")
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token)


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={
        200: {
            "description": "Prometheus text exposition",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        },
        401: {
            "description": "METRICS_TOKEN is set and the bearer token is not it",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        },
    },
)
async def metrics(request: Request) -> Response:
    """Prometheus text exposition; `Authorization: Bearer <METRICS_TOKEN>` when one is set."""
    if not _metrics_allowed(request):
        return JSONResponse(
            {"detail": "metrics need the bearer METRICS_TOKEN"},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
