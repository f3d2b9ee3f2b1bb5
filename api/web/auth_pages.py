"""Sign in with an API token, sign out, and choose the language: the forms every page shares."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, status
from fastapi.responses import RedirectResponse, Response

from api.core.config import Settings
from api.core.deps import SessionDep
from api.web.deps import CsrfChecked, safe_next
from api.web.i18n import LANGUAGES
from api.web.rendering import LANG_COOKIE, SESSION_COOKIE, render, set_cookie
from api.web.sessions import sign_in, sign_out

router = APIRouter(include_in_schema=False)
YEAR = 60 * 60 * 24 * 365


@router.get("/sign-in")
async def sign_in_page(
    request: Request, next_: Annotated[str | None, Query(alias="next")] = None
) -> Response:
    """The sign-in form."""
    return render(request, "sign_in.html", {"next": safe_next(next_), "failed": False})


@router.post("/sign-in", dependencies=[CsrfChecked])
async def sign_in_submit(
    request: Request,
    session: SessionDep,
    token: Annotated[str, Form(max_length=200)] = "",
    next_: Annotated[str, Form(alias="next", max_length=500)] = "/dashboard",
) -> Response:
    """Exchange the token for a session cookie, or show the form again."""
    settings: Settings = request.app.state.settings
    lifetime = timedelta(hours=settings.web_session_hours)
    secret = await sign_in(session, token, lifetime) if token.strip() else None
    if secret is None:
        context = {"next": safe_next(next_), "failed": True}
        return render(request, "sign_in.html", context, status_code=status.HTTP_401_UNAUTHORIZED)
    await session.commit()
    response = RedirectResponse(safe_next(next_), status_code=status.HTTP_303_SEE_OTHER)
    set_cookie(response, settings, SESSION_COOKIE, secret, int(lifetime.total_seconds()))
    return response


@router.post("/sign-out", dependencies=[CsrfChecked])
async def sign_out_submit(request: Request, session: SessionDep) -> Response:
    """End this browser's session."""
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        await sign_out(session, secret)
        await session.commit()
    response = RedirectResponse("/sign-in", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/language", dependencies=[CsrfChecked])
async def choose_language(
    request: Request,
    lang: Annotated[str, Form(max_length=8)],
    next_: Annotated[str, Form(alias="next", max_length=500)] = "/dashboard",
) -> Response:
    """Remember the chosen language and go back to the page."""
    response = RedirectResponse(safe_next(next_), status_code=status.HTTP_303_SEE_OTHER)
    if lang in LANGUAGES:
        set_cookie(response, request.app.state.settings, LANG_COOKIE, lang, YEAR)
    return response


@router.get("/")
async def home() -> Response:
    """The dashboard is the front page."""
    return RedirectResponse("/dashboard", status_code=status.HTTP_303_SEE_OTHER)
