"""`/dashboard`: tonnes sold and delivered, the weekly chart, breakdowns and live counters."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.core.deps import SessionDep
from api.reports.dashboard import WEEKS_SHOWN, dashboard, sessions_on_air, week_start
from api.reports.exports import CSV_TYPE, XLSX_TYPE, to_csv, to_xlsx
from api.reports.schemas import MAX_EXPORT_ROWS, Dimension, ReportSpec, Sort
from api.reports.service import tonnage_report
from api.web.charts import weekly_tonnes
from api.web.deps import PageActor
from api.web.i18n import number, translations
from api.web.rendering import render, request_language

router = APIRouter(include_in_schema=False)
# The page polls this often while a session is live (README "Pages").
LIVE_POLL_MS = 1000


def _share(rows: list[Any]) -> float:
    return max((row.sold.grams for row in rows), default=0) or 1


@router.get("/dashboard")
async def dashboard_page(request: Request, session: SessionDep, actor: PageActor) -> Response:
    """The programme's numbers in the signed-in person's scope."""
    data = await dashboard(session, actor)
    lang = request_language(request)
    gettext = translations(lang).gettext
    chart = weekly_tonnes(
        data.weeks, week_start(), WEEKS_SHOWN,
        (gettext("Sold"), gettext("Delivered"), gettext("Tonnes sold per week")),
        lambda value: f"{number(value, lang, 3)} t",
    )  # fmt: skip
    context = {
        "data": data, "chart": chart, "role": actor.role.value,
        "province_max": _share(data.provinces), "poll_ms": LIVE_POLL_MS,
    }  # fmt: skip
    return render(request, "dashboard.html", context)


@router.get("/dashboard/export")
async def export(
    session: SessionDep,
    actor: PageActor,
    group_by: Annotated[Dimension, Query()] = Dimension.PROVINCE,
    format_: Annotated[Literal["csv", "xlsx"], Query(alias="format")] = "csv",
) -> Response:
    """A one-grouping report of the page, downloaded as CSV or Excel."""
    spec = ReportSpec(group_by=[group_by], sort=Sort.SOLD_DESC)
    report = await tonnage_report(session, actor, spec, limit=MAX_EXPORT_ROWS)
    if format_ == "csv":
        body, media = to_csv(spec.group_by, report.items), CSV_TYPE
    else:
        body, media = to_xlsx(spec.group_by, report.items), XLSX_TYPE
    disposition = f'attachment; filename="tonnage-{group_by.value}.{format_}"'
    return Response(body, media_type=media, headers={"Content-Disposition": disposition})


@router.get("/dashboard/live")
async def live_counters(session: SessionDep, actor: PageActor) -> dict[str, Any]:
    """The counters of the sessions on air, for the page to poll."""
    return {
        "sessions": [
            {"id": s.live_session_id, "orders": s.orders, "units": s.units, "kg": s.kg,
             "gmv_vnd": s.gmv_vnd, "cancellations": s.cancellations}
            for s in await sessions_on_air(session, actor)
        ]
    }  # fmt: skip
