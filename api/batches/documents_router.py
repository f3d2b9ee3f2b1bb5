"""/api/v1/pickup-batches/{id}/documents/{kind}.{pdf|csv|xlsx} and the carriers' own labels.

The sheet is read in the request's session (same access rules as the desk: load_sheet), then
drawn in a worker thread into a spooled temporary file (memory up to 4 MB, disk beyond) and sent
in chunks: the event loop never waits on reportlab and the document is held once.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from tempfile import SpooledTemporaryFile
from typing import Any, BinaryIO, cast

from anyio import to_thread
from fastapi import APIRouter, Path
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlmodel import col

from api.batches import service
from api.core.deps import CurrentActor, Id, SessionDep
from api.core.errors import NotFound
from api.documents.render import (
    DocumentKind,
    TableFormat,
    filename,
    media_type,
    render_pdf,
    render_table,
)
from api.documents.sheets import BatchSheet
from api.shipments.labels import ask_for_label, stored_label
from api.shipments.models import Shipment

router = APIRouter(prefix="/pickup-batches", tags=["pickup batches"])

SPOOL_BYTES = 4 * 1024 * 1024
CHUNK = 64 * 1024
FORMATS = ("pdf", *TableFormat)
DocumentName = Path(
    max_length=40,
    description="`{kind}.{format}`: kind one of "
    + ", ".join(DocumentKind)
    + "; format pdf, csv or xlsx",
)


class CarrierLabel(BaseModel):
    """The carrier's own print link for one parcel, when it has one."""

    shipment_id: int
    waybill: str
    carrier: str
    label_url: str | None
    label_expires_at: datetime | None = None
    label_error: str | None = None


def _parse(document: str) -> tuple[DocumentKind, str]:
    kind, _, ext = document.rpartition(".")
    if kind not in DocumentKind.__members__.values() or ext not in FORMATS:
        raise NotFound(f"document {document!r}")
    return DocumentKind(kind), ext


def _draw(kind: DocumentKind, sheet: BatchSheet, ext: str) -> BinaryIO:
    # closed by _chunks once sent (or here on failure)
    spool = cast(BinaryIO, SpooledTemporaryFile(max_size=SPOOL_BYTES))  # noqa: SIM115
    try:
        if ext == "pdf":
            render_pdf(kind, sheet, spool)
        else:
            render_table(kind, sheet, spool, TableFormat(ext))
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool


def _chunks(spool: BinaryIO) -> Iterator[bytes]:
    with spool:
        while chunk := spool.read(CHUNK):
            yield chunk


@router.get(
    "/{batch_id}/documents/{document}",
    response_class=StreamingResponse,
    responses={200: {"content": {media_type(ext): {} for ext in FORMATS}}},
)
async def batch_document(
    batch_id: Id, session: SessionDep, actor: CurrentActor, document: str = DocumentName
) -> StreamingResponse:
    """One printable document of the batch (404 for an unknown kind or format)."""
    kind, ext = _parse(document)
    sheet = await service.load_sheet(session, actor, batch_id)
    await session.rollback()  # nothing written; no transaction held while drawing
    spool = await to_thread.run_sync(_draw, kind, sheet, ext)
    name = filename(kind, sheet, ext)
    disposition = "inline" if ext == "pdf" else "attachment"
    return StreamingResponse(
        _chunks(spool),
        media_type=media_type(ext),
        headers={"Content-Disposition": f'{disposition}; filename="{name}"'},
    )


@router.get("/{batch_id}/carrier-labels", response_model=list[CarrierLabel])
async def carrier_labels(batch_id: Id, session: SessionDep, actor: CurrentActor) -> list[Any]:
    """The carrier's own label link per parcel (Viettel Post print link, GHN print token...).

    Our labels are `documents/labels-thermal.pdf` and `labels-a4.pdf`; these are the carrier's,
    fetched by a job: a missing or expiring link is asked for and reported as being prepared.
    """
    sheet = await service.load_sheet(session, actor, batch_id)
    ids = [parcel.shipment_id for parcel in sheet.parcels]
    shipments = (
        (await session.execute(select(Shipment).where(col(Shipment.id).in_(ids)))).scalars().all()
    )
    by_id = {s.id: s for s in shipments}
    answer = []
    for shipment_id in ids:
        shipment = by_id[shipment_id]
        url = stored_label(shipment) if shipment.waybill else None
        error = None
        if url is None and shipment.waybill:
            ask_for_label(session, shipment)
            error = "label being prepared by the carrier; ask again in a moment"
        answer.append(
            CarrierLabel(
                shipment_id=shipment_id,
                waybill=shipment.waybill or "",
                carrier=shipment.carrier,
                label_url=url,
                label_expires_at=shipment.label_expires_at if url else None,
                label_error=error or (None if shipment.waybill else "not booked with the carrier"),
            )
        )
    await session.commit()  # sends the label fetches asked for
    return answer
