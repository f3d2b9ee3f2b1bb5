"""Page dependencies: the signed-in person (else off to the sign-in page), CSRF-checked forms."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Form, HTTPException, Request, status

from api.accounts.scope import Actor
from api.core.deps import SessionDep
from api.web.rendering import CSRF_FIELD, SESSION_COOKIE, csrf_ok
from api.web.sessions import actor_for


def safe_next(target: str | None) -> str:
    """Only a path on this site (never //host or a scheme) may be redirected to."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/dashboard"
    return target


async def page_actor(request: Request, session: SessionDep) -> Actor:
    """The person signed in by cookie; anyone else is sent to sign in first."""
    secret = request.cookies.get(SESSION_COOKIE)
    actor = await actor_for(session, secret) if secret else None
    if actor is None:
        target = quote(safe_next(request.url.path), safe="/")
        raise HTTPException(
            status.HTTP_303_SEE_OTHER, headers={"Location": f"/sign-in?next={target}"}
        )
    return actor


PageActor = Annotated[Actor, Depends(page_actor)]


async def checked_form(
    request: Request, csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=128)] = ""
) -> None:
    """Every form posts the CSRF token; a missing or wrong one is refused with 403."""
    if not csrf_ok(request, csrf_token):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="invalid CSRF token")


CsrfChecked = Depends(checked_form)
