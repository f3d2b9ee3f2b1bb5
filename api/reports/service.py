"""Tonnage reports for the REST API, the exports and the dashboard (one service for all)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.accounts.scope import Actor
from api.reports.query import report_query, totals_query
from api.reports.schemas import (
    Dimension,
    Measures,
    ReportRow,
    ReportSpec,
    TonnageReport,
)

# "None" in the read model's keys (0 / ''), shown as null.
_NONE_KEYS = {Dimension.PRODUCT: 0, Dimension.LIVE_SESSION: 0, Dimension.CATEGORY: ""}


def _key(dimension: Dimension, value: Any) -> int | str | None:
    if isinstance(value, date):
        return value.isoformat()
    if dimension in _NONE_KEYS and value == _NONE_KEYS[dimension]:
        return None
    return value if isinstance(value, int | str) else None


def _measures(row: Any, prefix: str) -> Measures:
    return Measures.of(
        int(getattr(row, f"{prefix}_orders")),
        int(getattr(row, f"{prefix}_units")),
        int(getattr(row, f"{prefix}_grams")),
        int(getattr(row, f"{prefix}_gmv_vnd")),
    )


async def tonnage_report(
    session: AsyncSession, actor: Actor, spec: ReportSpec, *, limit: int, offset: int = 0
) -> TonnageReport:
    """One page of groups in the actor's scope, and the totals of all of them."""
    sql, params = report_query(spec, actor, limit=limit, offset=offset)
    rows = (await session.execute(sql, params)).all()
    # Keys are never NULL in the read model: a NULL first key is the empty page's one row.
    page = [row for row in rows if row.k0 is not None]
    items = [
        ReportRow(
            key={d.value: _key(d, getattr(row, f"k{n}")) for n, d in enumerate(spec.group_by)},
            label={d.value: getattr(row, f"l{n}") for n, d in enumerate(spec.group_by)},
            sold=_measures(row, "sold"),
            delivered=_measures(row, "delivered"),
        )
        for row in page
    ]
    total = int(page[0].groups) if page else 0
    if not page and offset:
        total = await count_groups(session, actor, spec)
    return TonnageReport(
        group_by=spec.group_by,
        date_from=spec.date_from,
        date_to=spec.date_to,
        items=items,
        total=total,
        limit=limit,
        offset=offset,
        totals=_totals(rows[0]),
    )


async def count_groups(session: AsyncSession, actor: Actor, spec: ReportSpec) -> int:
    """How many groups the report has (for a page past the last one)."""
    sql, params = report_query(spec, actor, limit=1, offset=0)
    row = (await session.execute(sql, params)).first()
    return int(row.groups) if row is not None and row.k0 is not None else 0


def _totals(row: Any) -> dict[str, Measures]:
    if row.total_sold_orders is None:
        zero = Measures.of(0, 0, 0, 0)
        return {"sold": zero, "delivered": zero}
    return {"sold": _measures(row, "total_sold"), "delivered": _measures(row, "total_delivered")}


async def report_totals(
    session: AsyncSession, actor: Actor, spec: ReportSpec
) -> dict[str, Measures]:
    """Sold and delivered over everything the filters match, each order counted once."""
    sql, params = totals_query(spec, actor)
    return _totals((await session.execute(sql, params)).one())
