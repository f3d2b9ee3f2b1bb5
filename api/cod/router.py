"""/api/v1/cod-statements (admins: import and read payout statements) and /api/v1/cod-report."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile, status
from fastapi.responses import JSONResponse

from api.accounts.scope import Actor
from api.cod import service
from api.cod.exports import table, to_csv, to_xlsx
from api.cod.models import Outcome
from api.cod.reconcile import Upload
from api.cod.report import MAX_EXPORT_ROWS, report_items
from api.cod.schemas import CodReport, LineRead, StatementImported, StatementRead
from api.core.deps import MAX_ID, CurrentActor, CursorPaging, Id, SessionDep
from api.core.errors import Unprocessable
from api.core.paging import CursorPage
from api.shipments.models import CARRIERS

COD_UPLOAD_PATH = "/api/v1/cod-statements"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"
_FILE_TYPES = frozenset(
    {"text/csv", "text/plain", "application/csv", "application/vnd.ms-excel", XLSX_TYPE,
     "application/octet-stream", ""}
)  # fmt: skip
_FILE_SUFFIXES = (".csv", ".txt", ".xlsx")

router = APIRouter(prefix="/cod-statements", tags=["cod"])
report_router = APIRouter(prefix="/cod-report", tags=["cod"])

CarrierName = Annotated[
    str,
    Form(
        pattern="^(viettel[-_]post|ghn)$",
        description="viettel-post or ghn (viettel_post also accepted)",
    ),
]
_ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"description": "The file is over COD_MAX_UPLOAD_BYTES (20 MB by default)"},
    415: {"description": "Not a CSV or xlsx file"},
}


def _carrier(name: str) -> str:
    carrier = name.replace("-", "_")
    assert carrier in CARRIERS
    return carrier


def _refuse(code: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=code)


@router.post(
    "",
    response_model=StatementImported,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": StatementImported, "description": "Imported before"}, **_ERRORS},
)
async def import_statement(
    request: Request,
    response: Response,
    session: SessionDep,
    actor: CurrentActor,
    file: Annotated[UploadFile, File(description="the carrier's payout statement, CSV or xlsx")],
    carrier: CarrierName,
) -> StatementImported | JSONResponse:
    """Import and reconcile a statement; the same file again answers the first import (200)."""
    service.require_admin(actor)
    name = (file.filename or "").replace("\x00", "") or "statement"
    media = (file.content_type or "").split(";")[0].strip().lower()
    if media not in _FILE_TYPES and not name.lower().endswith(_FILE_SUFFIXES):
        return _refuse(415, "send the statement as CSV or xlsx")
    limit: int = request.app.state.settings.cod_max_upload_bytes
    content = await file.read(limit + 1)
    if len(content) > limit:
        return _refuse(413, f"the file is over {limit} bytes")
    if not content:
        raise Unprocessable("the file is empty", "file")
    upload = Upload(_carrier(carrier), name, service.sha256_of(content), actor.user_id)
    statement, created = await service.import_file(session, upload, content)
    await session.commit()
    if not created:
        response.status_code = status.HTTP_200_OK
    return StatementImported.model_validate({**_read(statement), "created": created})


def _read(statement: Any) -> dict[str, Any]:
    return StatementRead.model_validate(statement).model_dump()


@router.get("", response_model=CursorPage[StatementRead])
async def list_statements(
    session: SessionDep,
    actor: CurrentActor,
    paging: CursorPaging,
    carrier: Annotated[str | None, Query(pattern="^(" + "|".join(CARRIERS) + ")$")] = None,
) -> CursorPage[StatementRead]:
    """Imported statements, newest first (admins)."""
    return await service.list_statements(session, actor, paging, carrier)


@router.get("/{statement_id}", response_model=StatementRead)
async def read_statement(statement_id: Id, session: SessionDep, actor: CurrentActor) -> Any:
    """A statement with its line counts per outcome (admins)."""
    return StatementRead.model_validate(await service.get_statement(session, actor, statement_id))


@router.get("/{statement_id}/lines", response_model=CursorPage[LineRead])
async def read_lines(
    statement_id: Id,
    session: SessionDep,
    actor: CurrentActor,
    paging: CursorPaging,
    outcome: Outcome | None = None,
) -> CursorPage[LineRead]:
    """A statement's lines, newest first; `outcome=unknown_waybill` etc. to filter (admins)."""
    return await service.statement_lines(
        session, actor, statement_id, paging, outcome.value if outcome else None
    )


class Format(StrEnum):
    """How the report is answered."""

    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"


@report_router.get(
    "",
    response_model=CodReport,
    responses={200: {"content": {"text/csv": {}, XLSX_TYPE: {}}}},
)
async def read_report(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    cooperative_id: Annotated[int, Query(ge=1, le=MAX_ID)],
    format_: Annotated[Format, Query(alias="format")] = Format.JSON,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_EXPORT_ROWS)] = 0,
) -> CodReport | Response:
    """Amounts that differ, payouts made twice, delivered COD unpaid after COD_OVERDUE_DAYS.

    Cooperative users read their own cooperative only; programme managers get the summary.
    """
    days: int = request.app.state.settings.cod_overdue_days
    report = await service.cod_report(
        session, actor, cooperative_id, days, limit=limit, offset=offset
    )
    if format_ is Format.JSON:
        return report
    body, media = await _export(session, actor, report, days, format_)
    disposition = f'attachment; filename="cod-report-{cooperative_id}.{format_.value}"'
    return Response(body, media_type=media, headers={"Content-Disposition": disposition})


async def _export(
    session: SessionDep, actor: Actor, report: CodReport, days: int, format_: Format
) -> tuple[bytes, str]:
    items = None
    if not service.summary_only(actor):
        items = await report_items(
            session, report.cooperative_id, days, limit=MAX_EXPORT_ROWS, offset=0
        )
    rows = table(items, report.summary)
    return (to_csv(rows), CSV_TYPE) if format_ is Format.CSV else (to_xlsx(rows), XLSX_TYPE)
