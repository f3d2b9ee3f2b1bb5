"""What the dashboard shows, from the same services the REST API answers with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from api.accounts.scope import Actor
from api.core.db import utcnow
from api.live_sessions.models import LiveStatus
from api.live_sessions.schemas import LiveStats
from api.live_sessions.service import list_live_sessions
from api.live_sessions.stats import live_stats
from api.reports.schemas import TIMEZONE, Dimension, Measures, ReportRow, ReportSpec, Sort
from api.reports.service import report_totals, tonnage_report

VN = ZoneInfo(TIMEZONE)
WEEKS_SHOWN = 12
TOP = 5


@dataclass
class Dashboard:
    """Totals, the weekly series, breakdowns and sessions, all in the actor's scope."""

    totals: dict[str, Measures]
    weeks: list[ReportRow]
    provinces: list[ReportRow]
    cooperatives: list[ReportRow]
    products: list[ReportRow]
    live: list[LiveStats]
    recent: list[LiveStats]


def week_start(today: date | None = None) -> date:
    """The Monday that opens the weekly series (local time)."""
    today = today or utcnow().astimezone(VN).date()
    return today - timedelta(days=today.weekday() + 7 * (WEEKS_SHOWN - 1))


async def _top(
    session: AsyncSession, actor: Actor, dimension: Dimension, n: int
) -> list[ReportRow]:
    spec = ReportSpec(group_by=[dimension], sort=Sort.SOLD_DESC)
    return (await tonnage_report(session, actor, spec, limit=n)).items


async def sessions_on_air(session: AsyncSession, actor: Actor) -> list[LiveStats]:
    """Results of the sessions live now (the counters the page keeps moving)."""
    rows, _ = await list_live_sessions(session, actor, limit=10, offset=0, status=LiveStatus.LIVE)
    return [await live_stats(session, actor, row.id) for row in rows if row.id is not None]


async def dashboard(session: AsyncSession, actor: Actor) -> Dashboard:
    """Everything `/dashboard` shows."""
    weekly = ReportSpec(group_by=[Dimension.WEEK], date_from=week_start())
    ended, _ = await list_live_sessions(
        session, actor, limit=TOP, offset=0, status=LiveStatus.ENDED
    )
    return Dashboard(
        totals=await report_totals(session, actor, ReportSpec(group_by=[Dimension.DAY])),
        weeks=(await tonnage_report(session, actor, weekly, limit=WEEKS_SHOWN + 1)).items,
        provinces=await _top(session, actor, Dimension.PROVINCE, 34),
        cooperatives=await _top(session, actor, Dimension.COOPERATIVE, TOP),
        products=await _top(session, actor, Dimension.PRODUCT, TOP),
        live=await sessions_on_air(session, actor),
        recent=[await live_stats(session, actor, row.id) for row in ended if row.id is not None],
    )
