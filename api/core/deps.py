"""FastAPI dependencies: the request's session, the authenticated actor, pagination."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Query, Request, status
from fastapi.exceptions import RequestValidationError

from api.accounts.scope import Actor
from api.accounts.service import authenticate
from api.core.db import Database, PhienSession
from api.core.paging import MAX_OFFSET, BadCursor, CursorParams, decode_cursor
from api.core.ratelimit import WRITE_METHODS, RateLimits
from api.core.schemas import PageParams


def get_database(request: Request) -> Database:
    """The process's Database, built in the lifespan."""
    db: Database = request.app.state.db
    return db


async def get_session(
    db: Annotated[Database, Depends(get_database)],
) -> AsyncIterator[PhienSession]:
    """A session for this request; the endpoint commits, anything else is rolled back."""
    async with db.session() as session:
        yield session


SessionDep = Annotated[PhienSession, Depends(get_session)]

_UNAUTHORISED = HTTPException(
    status_code=status.HTTP_401_UNAUTHORIZED,
    detail="missing or invalid bearer token",
    headers={"WWW-Authenticate": "Bearer"},
)


async def get_actor(request: Request, session: SessionDep) -> Actor:
    """The user behind `Authorization: Bearer <token>`, else 401."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _UNAUTHORISED
    actor = await authenticate(session, token.strip())
    if actor is None:
        raise _UNAUTHORISED
    return actor


CurrentActor = Annotated[Actor, Depends(get_actor)]


# Deep offsets cost a scan of every row before them: past MAX_OFFSET the answer is 422.
Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description=f"at most {MAX_OFFSET}")]


def page_params(limit: Limit = 50, offset: Offset = 0) -> PageParams:
    """?limit=&offset= validated."""
    return PageParams(limit=limit, offset=offset)


Paging = Annotated[PageParams, Depends(page_params)]


def cursor_params(
    limit: Limit = 50,
    offset: Offset = 0,
    cursor: Annotated[
        str | None, Query(max_length=64, description="`next_cursor` of the previous page")
    ] = None,
) -> CursorParams:
    """?limit=&offset=&cursor= validated (a cursor this API did not hand out: 422)."""
    try:
        before = decode_cursor(cursor) if cursor else None
    except BadCursor:
        raise RequestValidationError(
            [{"loc": ("query", "cursor"), "msg": "not a cursor from this API", "type": "cursor"}]
        ) from None
    return CursorParams(limit=limit, offset=offset, before_id=before)


CursorPaging = Annotated[CursorParams, Depends(cursor_params)]

# Path ids are BIGINT: anything outside 1..2^63-1 cannot exist, so it is refused as bad input
# (422) before it reaches PostgreSQL as an out-of-range parameter.
MAX_ID = 2**63 - 1
Id = Annotated[int, Path(ge=1, le=MAX_ID)]


async def rate_limit(request: Request) -> None:
    """429 with Retry-After past the address's or (for writes) the token's rate."""
    limits: RateLimits | None = getattr(request.app.state, "rate_limits", None)
    if limits is None:
        return
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    address = request.client.host if request.client else "unknown"
    wait = await limits.retry_after(
        address,
        token.strip() if scheme.lower() == "bearer" else None,
        request.method in WRITE_METHODS,
    )
    if wait is not None:
        raise HTTPException(
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
            detail="too many requests; retry after the time in Retry-After",
            headers={"Retry-After": str(wait)},
        )
