"""/docs and /redoc served with their scripts from this process, so they work offline.

FastAPI's own pages load Swagger UI and ReDoc from a CDN and stay blank without internet. The
scripts here come from the installed `fastapi-offline` wheel (its swagger-ui-dist and ReDoc
standalone bundle); the pages themselves are still FastAPI's, so they follow its upgrades.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

ASSETS_URL = "/static/docs"
ASSETS_DIR = Path(str(files("fastapi_offline") / "static"))

# ReDoc's sidebar fetches its maker's logo from their CDN whatever the options say; this keeps
# the browser from asking any host but ours. Both UIs inline their styles and start-up script.
LOCAL_ONLY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "worker-src 'self' blob:",
    )
)

router = APIRouter(include_in_schema=False)


def _base(request: Request) -> str:
    root: str = request.scope.get("root_path", "")
    return root


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI over this app's OpenAPI document."""
    base, app = _base(request), request.app
    page = get_swagger_ui_html(
        openapi_url=f"{base}{app.openapi_url}",
        title=f"{app.title} - Swagger UI",
        swagger_js_url=f"{base}{ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{base}{ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{base}{ASSETS_URL}/favicon.png",
        # Swagger UI would otherwise show a badge fetched from validator.swagger.io, sending
        # it the address of our OpenAPI document: a request to another host, and a leak.
        swagger_ui_parameters={"validatorUrl": None},
    )
    page.headers["Content-Security-Policy"] = LOCAL_ONLY
    return page


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    """ReDoc over this app's OpenAPI document."""
    base, app = _base(request), request.app
    page = get_redoc_html(
        openapi_url=f"{base}{app.openapi_url}",
        title=f"{app.title} - ReDoc",
        redoc_js_url=f"{base}{ASSETS_URL}/redoc.standalone.js",
        redoc_favicon_url=f"{base}{ASSETS_URL}/favicon.png",
        with_google_fonts=False,
    )
    page.headers["Content-Security-Policy"] = LOCAL_ONLY
    return page


class _Named:
    """Names the route for the request metrics, which otherwise count a mount as unmatched."""

    def __init__(self, app: ASGIApp, label: str) -> None:
        self.app, self.label = app, label

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["phien.route"] = self.label
        await self.app(scope, receive, send)


def install_docs(app: FastAPI) -> None:
    """Serve /docs, /redoc and their assets; build the app with docs_url=None, redoc_url=None."""
    assets = _Named(StaticFiles(directory=ASSETS_DIR), f"{ASSETS_URL}/{{path}}")
    app.mount(ASSETS_URL, assets, name="docs-assets")
    app.include_router(router)
