"""Jinja2 templates in the person's language, with the cookies every page shares.

One environment per language (the gettext calls are bound at creation), so rendering never
switches a shared translation under a concurrent request.
"""

from __future__ import annotations

import hmac
import secrets
from functools import cache
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from api.core.config import Settings
from api.web.i18n import LANGUAGES, language, local_time, number, translations

SESSION_COOKIE = "phien_session"
CSRF_COOKIE = "phien_csrf"
LANG_COOKIE = "phien_lang"
CSRF_FIELD = "csrf_token"


@cache
def environment(lang: str) -> Environment:
    """The template environment of one language."""
    env = Environment(
        loader=PackageLoader("api.web", "templates"),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(lang=lang, languages=LANGUAGES)
    env.filters["num"] = lambda value, digits=0: number(value, lang, digits)
    env.filters["when"] = lambda value: local_time(value, lang)
    return env


def request_language(request: Request) -> str:
    """The language the person chose (cookie), Vietnamese by default."""
    return language(request.cookies.get(LANG_COOKIE))


def csrf_token(request: Request) -> str:
    """This browser's CSRF token (double-submit: the cookie and the form field must match)."""
    token: str | None = getattr(request.state, "csrf", None) or request.cookies.get(CSRF_COOKIE)
    if not token or len(token) > 64:
        token = secrets.token_urlsafe(24)
    request.state.csrf = token
    return token


def csrf_ok(request: Request, submitted: str) -> bool:
    """Whether a form's token matches the browser's cookie (and its origin is ours)."""
    origin = request.headers.get("origin")
    if origin and origin.split("://", 1)[-1] != request.headers.get("host"):
        return False
    cookie = request.cookies.get(CSRF_COOKIE, "")
    return bool(cookie) and hmac.compare_digest(cookie.encode(), submitted.encode())


def set_cookie(response: Response, settings: Settings, name: str, value: str, max_age: int) -> None:
    """HttpOnly, SameSite=Lax, and Secure in production."""
    response.set_cookie(
        name, value, max_age=max_age, httponly=True, samesite="lax", path="/",
        secure=settings.environment == "production",
    )  # fmt: skip


def render(
    request: Request, template: str, context: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    """A page in the person's language, carrying the CSRF token its forms need."""
    lang = request_language(request)
    token = csrf_token(request)
    html = (
        environment(lang)
        .get_template(template)
        .render(request=request, csrf_field=CSRF_FIELD, csrf_token=token, **context)
    )
    response = HTMLResponse(html, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "frame-ancestors 'none'; form-action 'self'"
    )
    if request.cookies.get(CSRF_COOKIE) != token:
        set_cookie(response, request.app.state.settings, CSRF_COOKIE, token, 60 * 60 * 24 * 30)
    return response
