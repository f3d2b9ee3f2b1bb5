"""GET /api/v1/reports/tonnage: JSON pages, or the whole report as CSV or xlsx."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import ValidationError

from api.catalogue.models import Category
from api.channels.models import Platform
from api.core.deps import CurrentActor, SessionDep
from api.core.errors import Unprocessable
from api.reports.exports import CSV_TYPE, XLSX_TYPE, to_csv, to_xlsx
from api.reports.schemas import (
    MAX_EXPORT_ROWS,
    MAX_ROWS_PER_PAGE,
    ReportSpec,
    Sort,
    TonnageReport,
)
from api.reports.service import tonnage_report

router = APIRouter(prefix="/reports", tags=["reports"])


class Format(StrEnum):
    """How the report is answered."""

    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"


def _format(requested: Format | None, request: Request) -> Format:
    if requested is not None:
        return requested
    accept = request.headers.get("accept", "")
    if XLSX_TYPE in accept:
        return Format.XLSX
    if "text/csv" in accept:
        return Format.CSV
    return Format.JSON


def _split(values: list[str]) -> list[str]:
    # ?group_by=day,province and ?group_by=day&group_by=province mean the same.
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


IdList = Annotated[list[int] | None, Query()]


@router.get("/tonnage", response_model=TonnageReport)
async def read_tonnage(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    group_by: Annotated[
        list[str],
        Query(
            description="one or two of: day, week, month, province, commune, cooperative,"
            " category, product, channel, live_session"
        ),
    ],
    date_from: Annotated[
        date | None, Query(description="first local day (Asia/Ho_Chi_Minh)")
    ] = None,
    date_to: Annotated[date | None, Query(description="last local day, included")] = None,
    province: IdList = None,
    commune: IdList = None,
    cooperative_id: IdList = None,
    category: Annotated[list[Category] | None, Query()] = None,
    product_id: IdList = None,
    channel: Annotated[list[Platform] | None, Query()] = None,
    live_session_id: IdList = None,
    sort: Sort = Sort.KEY,
    limit: Annotated[int, Query(ge=1, le=MAX_ROWS_PER_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    format_: Annotated[Format | None, Query(alias="format")] = None,
) -> TonnageReport | Response:
    """Kilograms, tonnes, orders, units and GMV, sold and delivered, by one or two groupings."""
    try:
        spec = ReportSpec(
            group_by=_split(group_by), date_from=date_from, date_to=date_to,
            provinces=province or [], communes=commune or [], cooperatives=cooperative_id or [],
            categories=category or [], products=product_id or [], channels=channel or [],
            live_sessions=live_session_id or [], sort=sort,
        )  # fmt: skip
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("query", *e["loc"])} for e in exc.errors()]
        ) from None
    fmt = _format(format_, request)
    if fmt is Format.JSON:
        return await tonnage_report(session, actor, spec, limit=limit, offset=offset)
    report = await tonnage_report(session, actor, spec, limit=MAX_EXPORT_ROWS + 1)
    if len(report.items) > MAX_EXPORT_ROWS:
        raise Unprocessable(
            f"more than {MAX_EXPORT_ROWS} rows: narrow the dates or filters", "group_by"
        )
    name = "tonnage-" + "-".join(d.value for d in spec.group_by)
    if fmt is Format.CSV:
        body, media = to_csv(spec.group_by, report.items), CSV_TYPE
    else:
        body, media = to_xlsx(spec.group_by, report.items), XLSX_TYPE
    disposition = f'attachment; filename="{name}.{fmt.value}"'
    return Response(body, media_type=media, headers={"Content-Disposition": disposition})
