"""`/desk`: the logistics desk — the day's pickup batches, scanning parcels packed, moving a
batch to ready and handed over. The PDFs are in `desk_documents`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Path, Query, Request, status
from fastapi.responses import JSONResponse, RedirectResponse, Response

from api.accounts.models import Role
from api.accounts.scope import Actor
from api.batches.errors import BatchMoveRefused, BatchNotFound, ParcelInOtherBatch, ParcelNotFound
from api.batches.schemas import BatchDetail, BatchSummary
from api.batches.service import (
    CARRIER_NAMES,
    get_batch,
    list_batches,
    move_batch,
    pick_list,
    scan_parcel,
    window_text,
)
from api.core.db import PhienSession
from api.core.deps import SessionDep
from api.documents.sheets import PickLine
from api.web.deps import CsrfChecked, PageActor
from api.web.desk_words import (
    FLASH_COOKIE,
    Gettext,
    ScanAnswer,
    read_flash,
    refusal,
    scan_from_flash,
    scan_json,
    scan_view,
    set_flash,
)
from api.web.i18n import VN, local_day, translations
from api.web.rendering import render, request_language

router = APIRouter(include_in_schema=False)
BatchId = Annotated[int, Path(ge=1, le=2**63 - 1)]
# The moves a packer makes from the desk; the service knows which are allowed when.
DESK_MOVES = ("packing", "ready", "handed_over")
SCANNABLE = ("open", "packing", "ready")
DAY_BATCHES = 200
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class BatchView:
    """A batch as the desk names it."""

    id: int
    status: str
    point_name: str
    carrier_name: str
    window: str
    pickup_date: date
    parcels: int
    packed: int
    left: int


def batch_view(batch: BatchSummary) -> BatchView:
    """The names and figures a packer reads for one batch."""
    return BatchView(
        batch.id, batch.status, batch.cooperative_name,
        CARRIER_NAMES.get(batch.carrier, batch.carrier),
        window_text(batch.window_start, batch.window_end), batch.pickup_date,
        batch.parcels, batch.packed, batch.left,
    )  # fmt: skip


@dataclass(frozen=True)
class Move:
    """A button that moves the batch."""

    to: str
    label: str
    css: str
    confirm: str = ""  # asked in the browser first (desk.js): a mis-tap here is hard to undo


def _gettext(request: Request) -> Gettext:
    return translations(request_language(request)).gettext


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _back(batch_id: int) -> RedirectResponse:
    return RedirectResponse(f"/desk/batches/{batch_id}", status_code=status.HTTP_303_SEE_OTHER)


def _missing(request: Request) -> Response:
    return render(request, "desk_missing.html", {}, status_code=status.HTTP_404_NOT_FOUND)


def documents(gettext: Gettext) -> list[dict[str, str]]:
    """The PDFs a batch prints, in the order a packer needs them."""
    return [
        {"kind": "pick-list", "label": gettext("Pick list")},
        {"kind": "packing-slips", "label": gettext("Packing slips")},
        {"kind": "labels-thermal", "label": gettext("Labels 100×150 mm")},
        {"kind": "labels-a4", "label": gettext("Labels A4 (4 per page)")},
        {"kind": "manifest", "label": gettext("Handover manifest")},
    ]


def moves(batch_status: str, gettext: Gettext) -> list[Move]:
    """The buttons a batch in this status shows (api/batches/status.py has the table)."""
    if batch_status in ("open", "packing"):
        return [Move("ready", gettext("Mark ready for pickup"), "ready")]
    if batch_status == "ready":
        ask = gettext("Has the driver counted and signed for every parcel?")
        return [
            Move("handed_over", gettext("Handed over to the driver"), "handover", ask),
            Move("packing", gettext("Back to packing"), "secondary"),
        ]
    return []


def _parse_day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@router.get("/desk")
async def desk_page(
    request: Request,
    session: SessionDep,
    actor: PageActor,
    day: Annotated[str | None, Query()] = None,
) -> Response:
    """The day's pickup batches in the person's scope (today in Vietnam by default).

    A `day` that is not a date (a mistyped or truncated link) shows today rather than an error.
    """
    today = datetime.now(VN).date()
    shown = _parse_day(day) or today
    page = await list_batches(session, actor, day=shown, limit=DAY_BATCHES)
    # In the order the drivers come: by pickup window.
    batches = sorted(page.items, key=lambda b: (b.window_start, b.cooperative_name, b.id))
    context = {
        "batches": [batch_view(batch) for batch in batches],
        "is_today": shown == today,
        "day_label": local_day(shown, request_language(request)),
        # None at the calendar's ends (date.min, date.max): no link past them, and no 500.
        "previous_day": shown - ONE_DAY if shown > date.min else None,
        "next_day": shown + ONE_DAY if shown < date.max else None,
    }
    return render(request, "desk.html", context)


@router.get("/desk/batches/{batch_id}")
async def batch_page(
    request: Request, session: SessionDep, actor: PageActor, batch_id: BatchId
) -> Response:
    """One batch: counts, the scan field, moves, documents, the pick list and the parcels."""
    try:
        detail = await get_batch(session, actor, batch_id)
        lines = await pick_list(session, actor, batch_id)
    except BatchNotFound:
        return _missing(request)
    gettext = _gettext(request)
    context = _batch_context(request, detail, lines, gettext)
    # Programme managers read batches; only the people who pack act on them or print buyers.
    context["acts"] = actor.role is not Role.PROGRAM_MANAGER
    response = render(request, "desk_batch.html", context)
    if FLASH_COOKIE in request.cookies:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def _batch_context(
    request: Request, detail: BatchDetail, lines: list[PickLine], gettext: Gettext
) -> dict[str, Any]:
    flash = read_flash(request) or {}
    if flash.get("batch") != detail.id:
        flash = {}  # left by a post about another batch
    scanned = scan_from_flash(flash)
    notice = None
    if flash.get("kind") == "move" and isinstance(flash.get("text"), str):
        notice = {"text": flash["text"], "refused": bool(flash.get("refused"))}
    return {
        "batch": batch_view(detail),
        "parcels": detail.items,
        "day_label": local_day(detail.pickup_date, request_language(request)),
        "scannable": detail.status in SCANNABLE,
        "moves": moves(detail.status, gettext),
        "documents": documents(gettext),
        "pick_lines": lines,
        "pick_weight_g": sum(line.weight_g for line in lines),
        "scan": scan_view(scanned, gettext) if scanned else None,
        "notice": notice,
    }


async def _scan(session: PhienSession, actor: Actor, batch_id: int, code: str) -> ScanAnswer:
    if not code:
        return ScanAnswer("unknown", code)
    try:
        done = await scan_parcel(session, actor, batch_id, code)
    except ParcelNotFound:
        return ScanAnswer("unknown", code)
    except ParcelInOtherBatch as other:
        return ScanAnswer("other_batch", code, other.shipment_id, other.waybill,
                          other_batch_id=other.batch_id)  # fmt: skip
    except BatchMoveRefused:
        # A parcel left unpacked in a batch already ready (or handed over): nothing changed.
        return ScanAnswer("refused", code)
    await session.commit()
    return ScanAnswer(
        done.outcome, code, done.shipment_id, done.waybill, done.order_reference,
        done.packed, done.left,
    )  # fmt: skip


@router.post("/desk/batches/{batch_id}/scan", dependencies=[CsrfChecked])
async def scan(
    request: Request,
    session: SessionDep,
    actor: PageActor,
    batch_id: BatchId,
    code: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Mark the scanned parcel packed: 200 (packed or already), 409 another batch's, 404 unknown."""
    try:
        answer = await _scan(session, actor, batch_id, code.strip())
    except BatchNotFound:
        if _wants_json(request):
            return JSONResponse({"outcome": None}, status_code=status.HTTP_404_NOT_FOUND)
        return _missing(request)
    if _wants_json(request):
        body = scan_json(answer, _gettext(request))
        return JSONResponse(body, status_code=answer.status_code)
    response = _back(batch_id)
    flash = {"kind": "scan", "batch": batch_id, **scan_json(answer, _gettext(request))}
    set_flash(response, request, flash)
    return response


@router.post("/desk/batches/{batch_id}/status", dependencies=[CsrfChecked])
async def move(
    request: Request,
    session: SessionDep,
    actor: PageActor,
    batch_id: BatchId,
    to: Annotated[str, Form(max_length=20)],
) -> Response:
    """Move the batch to ready, handed over or back to packing, or say why not."""
    gettext = _gettext(request)
    if to not in DESK_MOVES:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, detail="unknown move")
    try:
        await move_batch(session, actor, batch_id, to)
    except BatchNotFound:
        return _missing(request)
    except BatchMoveRefused as refused:
        await session.rollback()
        now = await get_batch(session, actor, batch_id)
        text = refusal(now, to, refused.reason, gettext)
        flash = {"kind": "move", "batch": batch_id, "refused": True, "text": text}
    else:
        await session.commit()
        text = {
            "handed_over": gettext("Handed over to the driver."),
            "ready": gettext("Ready for pickup."),
        }.get(to, gettext("Back to packing."))
        flash = {"kind": "move", "batch": batch_id, "refused": False, "text": text}
    response = _back(batch_id)
    set_flash(response, request, flash)
    return response
