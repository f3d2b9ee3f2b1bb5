"""The public entry to the batch documents: one PDF or table per kind, written to a stream.

PDF library: reportlab. It is maintained (BSD, releases every few months), embeds subsets of
TrueType fonts so Vietnamese shows with Be Vietnam Pro (api/documents/fonts.py), draws Code 128
with its own barcode module (no second library, no hand-drawn bars), and its canvas is drawn
on straight from the parcel iterator: each finished page is kept only as its compressed content
stream, and `save()` joins them into the file's bytes once and writes those to `out`. So a
document is in memory once (about 0.9 MB for 500 thermal labels), never as a list of objects
plus a copy. fpdf2 was the alternative; it has no Code 128 of its own.

Each call reads `sheet.parcels` once: a caller that wants several documents loads the sheet
once per document (the parcels are a one-shot stream from the database).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from tempfile import SpooledTemporaryFile
from typing import BinaryIO, cast

from api.documents import labels, manifest, packing_slips, pick_list
from api.documents.sheets import BatchSheet
from api.documents.tables import Cell, write_csv, write_xlsx


class DocumentKind(StrEnum):
    """The documents of a batch, as named in URLs and file names."""

    PICK_LIST = "pick-list"
    PACKING_SLIPS = "packing-slips"
    LABELS_THERMAL = "labels-thermal"
    LABELS_A4 = "labels-a4"
    MANIFEST = "manifest"


class TableFormat(StrEnum):
    """The spreadsheet formats every document also comes in."""

    CSV = "csv"
    XLSX = "xlsx"


SPOOL_BYTES = 4 * 1024 * 1024
CHUNK_BYTES = 64 * 1024
MEDIA_TYPES = {
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class _Document:
    title: str
    headings: Sequence[str]
    rows: Callable[[BatchSheet], Iterable[Sequence[Cell]]]
    draw: Callable[[BatchSheet, BinaryIO], int]
    money_columns: frozenset[int] = frozenset()


def _documents() -> dict[DocumentKind, _Document]:
    """Which module draws each kind (one module per document)."""
    return {
        DocumentKind.PICK_LIST: _Document(
            pick_list.TITLE, pick_list.HEADINGS, pick_list.rows, pick_list.draw
        ),
        DocumentKind.PACKING_SLIPS: _Document(
            packing_slips.TITLE,
            packing_slips.HEADINGS,
            packing_slips.rows,
            packing_slips.draw,
            packing_slips.MONEY_COLUMNS,
        ),
        DocumentKind.LABELS_THERMAL: _Document(
            labels.TITLE, labels.HEADINGS, labels.rows, labels.draw_thermal, labels.MONEY_COLUMNS
        ),
        DocumentKind.LABELS_A4: _Document(
            labels.TITLE, labels.HEADINGS, labels.rows, labels.draw_a4, labels.MONEY_COLUMNS
        ),
        DocumentKind.MANIFEST: _Document(
            manifest.TITLE, manifest.HEADINGS, manifest.rows, manifest.draw, manifest.MONEY_COLUMNS
        ),
    }


_DOCUMENTS = _documents()


def _document(kind: DocumentKind) -> _Document:
    return _DOCUMENTS[DocumentKind(kind)]


def render_pdf(kind: DocumentKind, sheet: BatchSheet, out: BinaryIO) -> int:
    """Write the document as PDF to `out`; the number of pages written."""
    return _document(kind).draw(sheet, out)


def render_table(kind: DocumentKind, sheet: BatchSheet, out: BinaryIO, fmt: TableFormat) -> int:
    """Write the document's rows as CSV or xlsx to `out`; the number of data rows.

    Label kinds give one row per parcel (thermal and A4 are the same table).
    """
    document = _document(kind)
    rows = document.rows(sheet)
    if TableFormat(fmt) is TableFormat.CSV:
        return write_csv(document.headings, rows, out)
    return write_xlsx(document.title, document.headings, rows, out, document.money_columns)


def render(kind: DocumentKind, sheet: BatchSheet, out: BinaryIO, fmt: str) -> None:
    """Write the document to `out` as `pdf`, `csv` or `xlsx` (ValueError for anything else)."""
    if fmt == "pdf":
        render_pdf(kind, sheet, out)
    else:
        render_table(kind, sheet, out, TableFormat(fmt))


def render_spooled(kind: DocumentKind, sheet: BatchSheet, fmt: str) -> BinaryIO:
    """The document drawn into a spooled temporary file (in memory up to SPOOL_BYTES, on disk
    beyond), rewound to its start. CPU work: run it in a worker thread. The caller owns the
    file (`chunks` closes it once read)."""
    spool = cast(BinaryIO, SpooledTemporaryFile(max_size=SPOOL_BYTES))  # noqa: SIM115
    try:
        render(kind, sheet, spool, fmt)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool


def chunks(spool: BinaryIO) -> Iterator[bytes]:
    """The file's bytes in CHUNK_BYTES pieces, for a streamed response; closes it at the end
    (or when the stream is abandoned)."""
    with spool:
        while chunk := spool.read(CHUNK_BYTES):
            yield chunk


def content_disposition(kind: DocumentKind, sheet: BatchSheet, fmt: str) -> str:
    """PDF shown inline (the browser's viewer prints it); CSV and xlsx downloaded."""
    disposition = "inline" if fmt == "pdf" else "attachment"
    return f'{disposition}; filename="{filename(kind, sheet, fmt)}"'


def media_type(fmt: str) -> str:
    """The Content-Type for `pdf`, `csv` or `xlsx` (ValueError for anything else)."""
    try:
        return MEDIA_TYPES[fmt]
    except KeyError:
        raise ValueError(f"unknown document format {fmt!r}") from None


def filename(kind: DocumentKind, sheet: BatchSheet, ext: str) -> str:
    """An ASCII file name that sorts by date: `lo-42-2026-11-30-pick-list.pdf`."""
    return f"lo-{sheet.batch_id}-{sheet.pickup_date.isoformat()}-{DocumentKind(kind)}.{ext}"
