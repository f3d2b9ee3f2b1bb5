"""/api/v1/pickup-batches/{id}/documents/{kind}.{pdf|csv|xlsx} and the carriers' own labels.

The sheet is read in the request's session (same access rules as the desk: load_sheet), then
drawn in a worker thread into a spooled temporary file (memory up to 4 MB, disk beyond) and sent
in chunks: the event loop never waits on reportlab and the document is held once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

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
    chunks,
    content_disposition,
    media_type,
    render_spooled,
)
from api.shipments.labels import ask_for_label, stored_label
from api.shipments.models import Shipment

router = APIRouter(prefix="/pickup-batches", tags=["pickup batches"])

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
    spool = await to_thread.run_sync(render_spooled, kind, sheet, ext)
    return StreamingResponse(
        chunks(spool),
        media_type=media_type(ext),
        headers={"Content-Disposition": content_disposition(kind, sheet, ext)},
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
