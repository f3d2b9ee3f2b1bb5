"""The desk's documents: a batch's pick list, packing slips, labels and manifest as PDF, opened in
the browser, and the same as CSV or xlsx, downloaded.

A document is drawn in a worker thread (it is CPU work) into a spooled file that moves to disk past
a few megabytes, then streamed out in chunks: a 500-parcel batch is never held twice in memory.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import IO, BinaryIO, cast

from anyio import to_thread
from fastapi import APIRouter, Request, status
from fastapi.responses import Response, StreamingResponse

from api.batches.service import BatchNotFound, load_sheet
from api.core.deps import SessionDep
from api.documents.render import (
    DocumentKind,
    TableFormat,
    filename,
    media_type,
    render_pdf,
    render_table,
)
from api.documents.sheets import BatchSheet
from api.web.deps import PageActor
from api.web.desk_pages import BatchId
from api.web.rendering import render

router = APIRouter(include_in_schema=False)
SPOOL_BYTES = 4 * 1024 * 1024
CHUNK_BYTES = 64 * 1024


def _chunks(spool: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := spool.read(CHUNK_BYTES):
            yield chunk
    finally:
        spool.close()


def _draw(document: DocumentKind, fmt: str, sheet: BatchSheet, out: BinaryIO) -> None:
    if fmt == "pdf":
        render_pdf(document, sheet, out)
    else:
        render_table(document, sheet, out, TableFormat(fmt))


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
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (closed by _chunks)
    try:
        await to_thread.run_sync(_draw, document, fmt, sheet, cast(BinaryIO, spool))
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    disposition = "inline" if fmt == "pdf" else "attachment"
    headers = {
        "Content-Disposition": f'{disposition}; filename="{filename(document, sheet, fmt)}"',
        "Cache-Control": "no-store",
    }
    return StreamingResponse(_chunks(spool), media_type=content_type, headers=headers)
