"""The web layer in one call: page routers and the app's own static files."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.web.auth_pages import router as auth_router
from api.web.buy_pages import router as buy_router
from api.web.dashboard_pages import router as dashboard_router
from api.web.desk_documents import router as desk_documents_router
from api.web.desk_pages import router as desk_router


def install_pages(app: FastAPI) -> None:
    """Mount the pages and `/static` (served from the installed `api.web` package)."""
    app.include_router(auth_router)
    app.include_router(dashboard_router)
    app.include_router(desk_router)
    app.include_router(desk_documents_router)
    app.include_router(buy_router)
    app.mount("/static", StaticFiles(packages=[("api.web", "static")]), name="static")
