"""The desk's documents: a batch's pick list, packing slips, labels and manifest as PDF, opened in
the browser, and the same as CSV or xlsx, downloaded.

A document is drawn in a worker thread (it is CPU work) into a spooled file that moves to disk past
a few megabytes, then streamed out in chunks: a 500-parcel batch is never held twice in memory.
"""

from __future__ import annotations

from anyio import to_thread
from fastapi import APIRouter, Request, status
from fastapi.responses import Response, StreamingResponse

from api.batches.service import BatchNotFound, load_sheet
from api.core.deps import SessionDep
from api.documents.render import (
    DocumentKind,
    chunks,
    content_disposition,
    media_type,
    render_spooled,
)
from api.web.deps import PageActor
from api.web.desk_pages import BatchId
from api.web.rendering import render

router = APIRouter(include_in_schema=False)


@router.get("/desk/batches/{batch_id}/documents/{kind}.{fmt}")
async def document_file(
    request: Request,
    session: SessionDep,
    actor: PageActor,
    batch_id: BatchId,
    kind: str,
    fmt: str,
) -> Response:
    """One document of the batch: PDF shown inline (the browser's viewer prints it), CSV or
    xlsx downloaded."""
    try:
        document = DocumentKind(kind)
        content_type = media_type(fmt)
        sheet = await load_sheet(session, actor, batch_id)
    except (ValueError, BatchNotFound):
        return render(request, "desk_missing.html", {}, status_code=status.HTTP_404_NOT_FOUND)
    # Nothing written: no transaction (nor its pooled connection) is held while drawing.
    await session.rollback()
    spool = await to_thread.run_sync(render_spooled, document, sheet, fmt)
    headers = {
        "Content-Disposition": content_disposition(document, sheet, fmt),
        "Cache-Control": "no-store",
    }
    return StreamingResponse(chunks(spool), media_type=content_type, headers=headers)
