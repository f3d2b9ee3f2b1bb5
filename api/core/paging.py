"""Bounded lists: keyset pages by an opaque cursor, counts capped, deep offsets refused.

A list ordered by id, newest first, hands out `next_cursor` (the last id it showed, encoded);
the next page asks for ids below it, so rows inserted meanwhile never shift or repeat a page
and a deep page costs an index range scan, not a scan of everything before it. `limit`/`offset`
still work up to MAX_OFFSET. Any list keyed by a BIGINT id can adopt it: build the filtered
query, then call `keyset_page(session, query, Model.id, params)`.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import Field
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.schemas import Page

T = TypeVar("T")

MAX_OFFSET = 10_000
# Counting past this costs time proportional to the table; past it `total` says "at least".
COUNT_CAP = 10_000
_PREFIX = "k1:"


class CursorPage(Page[T], Generic[T]):
    """One page of a large list; follow `next_cursor` for the next one."""

    next_cursor: str | None = Field(
        default=None, description="Pass as ?cursor= for the next page; null on the last page"
    )
    total_capped: bool = Field(
        default=False,
        description=f"true when more than {COUNT_CAP} rows match: total is then a floor",
    )


class BadCursor(ValueError):
    """The cursor was not one this API handed out."""


def encode_cursor(last_id: int) -> str:
    """An opaque cursor for 'ids below this one'."""
    return base64.urlsafe_b64encode(f"{_PREFIX}{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The id inside a cursor, or BadCursor."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadCursor(cursor) from None
    if not text.startswith(_PREFIX) or not text[len(_PREFIX) :].isdigit():
        raise BadCursor(cursor)
    value = int(text[len(_PREFIX) :])
    if not 1 <= value <= 2**63 - 1:
        raise BadCursor(cursor)
    return value


@dataclass(frozen=True)
class CursorParams:
    """?limit=, ?offset= (≤ MAX_OFFSET) and ?cursor= (the id to continue below)."""

    limit: int
    offset: int
    before_id: int | None


async def capped_count(session: AsyncSession, query: Select[Any]) -> tuple[int, bool]:
    """(rows, capped): counts at most COUNT_CAP + 1 rows of `query`."""
    bounded = query.order_by(None).limit(COUNT_CAP + 1).subquery()
    total = int((await session.execute(select(func.count()).select_from(bounded))).scalar_one())
    return min(total, COUNT_CAP), total > COUNT_CAP


async def keyset_page(
    session: AsyncSession, query: Select[Any], id_column: Any, params: CursorParams
) -> tuple[list[Any], int, bool, str | None]:
    """(rows, total, total_capped, next_cursor) of `query` ordered by `id_column` descending."""
    total, capped = await capped_count(session, query)
    page = query
    if params.before_id is not None:
        page = page.where(id_column < params.before_id)
    rows = list(
        (
            await session.execute(
                page.order_by(id_column.desc()).limit(params.limit + 1).offset(params.offset)
            )
        ).scalars()
    )
    more = len(rows) > params.limit
    rows = rows[: params.limit]
    next_cursor = encode_cursor(rows[-1].id) if more and rows else None
    return rows, total, capped, next_cursor
