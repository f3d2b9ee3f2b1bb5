"""Map domain errors to HTTP answers: never a 500 for something the caller can fix.

Bad data is 4xx, only outages are 5xx: a value PostgreSQL refuses (a NUL, a number out of
range) is the caller's 422, a full connection pool or a lost database is 503 with Retry-After,
and anything else from the database is a bug (500, logged), never a reason for clients to retry.
"""

from __future__ import annotations

import logging
from typing import Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from api.checkout.errors import CheckoutRefused, PaymentsRefused, PaymentsUnavailable
from api.core.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    Unavailable,
    Unprocessable,
)

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 2
PAYMENTS_RETRY_AFTER_SECONDS = 30
DbFault = Literal["data", "outage", "bug"]
# SQLSTATE classes: 22 data exception; 08 connection, 40 transaction rollback (deadlock,
# serialisation), 53 resources, 57 operator intervention (shutdown, restart, statement timeout),
# 58 system error: the database is down or busy, and a retry may well succeed.
_OUTAGE_CLASSES = frozenset({"08", "40", "53", "57", "58"})


def classify_db_error(exc: DBAPIError) -> DbFault:
    """Whose fault a database error is: the data's (422), an outage's (503) or ours (500)."""
    if exc.connection_invalidated:
        return "outage"
    cause = getattr(exc.orig, "__cause__", None) or exc.orig
    sqlstate = getattr(cause, "sqlstate", None)
    if isinstance(sqlstate, str):
        if sqlstate.startswith("22"):
            return "data"
        return "outage" if sqlstate[:2] in _OUTAGE_CLASSES else "bug"
    # No SQLSTATE: the driver refused to encode a value (a ValueError, e.g. out of int32
    # range), or the connection is gone (OSError, asyncpg's InterfaceError, a closed socket).
    if isinstance(cause, ValueError):
        return "data"
    return "outage"


def _unavailable(detail: str) -> JSONResponse:
    return JSONResponse(
        {"detail": detail},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register the domain error -> status mapping on the app."""

    @app.exception_handler(NotFound)
    async def _not_found(_: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(Forbidden)
    async def _forbidden(_: Request, exc: Forbidden) -> JSONResponse:
        return JSONResponse({"detail": exc.reason}, status_code=403)

    @app.exception_handler(Conflict)
    async def _conflict(_: Request, exc: Conflict) -> JSONResponse:
        return JSONResponse({"detail": exc.reason}, status_code=409)

    @app.exception_handler(BadRequest)
    async def _bad_request(_: Request, exc: BadRequest) -> JSONResponse:
        return JSONResponse({"detail": exc.reason}, status_code=400)

    @app.exception_handler(Unavailable)
    async def _unavailable(_: Request, exc: Unavailable) -> JSONResponse:
        return JSONResponse({"detail": exc.reason}, status_code=503)

    @app.exception_handler(Unprocessable)
    async def _unprocessable(_: Request, exc: Unprocessable) -> JSONResponse:
        loc = ["body", *exc.field.split(".")] if exc.field else ["body"]
        return JSONResponse(
            {"detail": [{"loc": loc, "msg": exc.reason, "type": "domain_rule"}]}, status_code=422
        )

    @app.exception_handler(CheckoutRefused)
    async def _checkout_refused(_: Request, exc: CheckoutRefused) -> JSONResponse:
        loc = ["body", *exc.field.split(".")] if exc.field else ["body"]
        return JSONResponse(
            {"detail": [{"loc": loc, "msg": exc.message, "type": exc.code}]},
            status_code=exc.status,
        )

    @app.exception_handler(PaymentsUnavailable)
    async def _payments_unavailable(_: Request, exc: PaymentsUnavailable) -> JSONResponse:
        return JSONResponse(
            {"detail": "the payment provider is unavailable; nothing was reserved, try again"},
            status_code=503,
            headers={"Retry-After": str(PAYMENTS_RETRY_AFTER_SECONDS)},
        )

    @app.exception_handler(PaymentsRefused)
    async def _payments_refused(_: Request, exc: PaymentsRefused) -> JSONResponse:
        return JSONResponse(
            {"detail": f"the payment provider refused the checkout: {exc.message}"[:500]},
            status_code=502,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        # Keep loc/msg/type only: echoing `input` back could reflect secrets or phone numbers.
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        constraint = getattr(getattr(exc.orig, "__cause__", None), "constraint_name", None)
        log.info("integrity error", extra={"constraint": constraint})
        return JSONResponse(
            {"detail": f"conflicts with existing data ({constraint or 'constraint'})"},
            status_code=409,
        )

    app.add_exception_handler(DBAPIError, _db_error)
    app.add_exception_handler(PoolTimeout, _pool_exhausted)
    app.add_exception_handler(ConnectionError, _connection_lost)


async def _db_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DBAPIError)
    fault = classify_db_error(exc)
    cause = getattr(exc.orig, "__cause__", None) or exc.orig
    error = type(cause).__name__
    if fault == "data":
        log.info("value refused by the database", extra={"error": error})
        return JSONResponse(
            {"detail": [{"loc": ["body"], "msg": _data_message(cause), "type": error}]},
            status_code=422,
        )
    if fault == "outage":
        log.error("database unavailable", extra={"error": error})
        return _unavailable("database unavailable, try again")
    log.error("database error", extra={"error": error}, exc_info=exc)
    return JSONResponse({"detail": "internal error"}, status_code=500)


async def _pool_exhausted(_: Request, exc: Exception) -> JSONResponse:
    log.error("database connection pool exhausted")
    return _unavailable("server busy, try again")


async def _connection_lost(_: Request, exc: Exception) -> JSONResponse:
    log.error("connection refused or lost", extra={"error": type(exc).__name__})
    return _unavailable("a backing service is unavailable, try again")


def _data_message(cause: object) -> str:
    """What was wrong with the value, without echoing the value back."""
    sqlstate = getattr(cause, "sqlstate", "")
    if sqlstate == "22003" or "range" in str(cause):
        return "a number is out of the range this field can hold"
    if sqlstate in ("22021", "22P05"):
        return "text contains a character that cannot be stored (NUL)"
    return "a value cannot be stored"
