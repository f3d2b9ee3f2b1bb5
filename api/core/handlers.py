"""Map domain errors to HTTP answers: never a 500 for something the caller can fix."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError

from api.core.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    Unavailable,
    Unprocessable,
)

log = logging.getLogger(__name__)


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

    @app.exception_handler(DBAPIError)
    async def _db_unavailable(_: Request, exc: DBAPIError) -> JSONResponse:
        log.error("database error", extra={"error": type(exc.orig).__name__})
        return JSONResponse({"detail": "database unavailable, try again"}, status_code=503)
