"""The COD report as CSV or xlsx: the rows for cooperatives, the summary for programme managers."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from api.cod.schemas import ReportItem, ReportSummary
from api.cod.values import LOCAL
from api.documents.tables import csv_text

ITEM_COLUMNS = tuple(ReportItem.model_fields)
SUMMARY_COLUMNS = tuple(ReportSummary.model_fields)


def _local(value: object) -> object:
    # People read these in Vietnam: local wall time, without a zone (Excel has none).
    if isinstance(value, datetime):
        return value.astimezone(LOCAL).replace(tzinfo=None, microsecond=0)
    return value


def table(
    items: Sequence[ReportItem] | None, summary: Sequence[ReportSummary]
) -> list[list[object]]:
    """Header and rows: the items when given, else the summary."""
    if items is None:
        header: list[object] = list(SUMMARY_COLUMNS)
        return [header] + [[getattr(s, c) for c in SUMMARY_COLUMNS] for s in summary]
    columns: list[object] = list(ITEM_COLUMNS)
    return [columns] + [[_local(getattr(i, c)) for c in ITEM_COLUMNS] for i in items]


def _csv_cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    # Waybills, order ids and reasons come from carriers' files and platforms: one that starts
    # like a formula (=, +, -, @) gets a leading apostrophe, so a spreadsheet shows it as text.
    return csv_text(value) if isinstance(value, str) else value


def to_csv(rows: Sequence[Sequence[object]]) -> bytes:
    """UTF-8 CSV with a byte-order mark (spreadsheet programs then read Vietnamese right)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(rows: Sequence[Sequence[object]]) -> bytes:
    """One write-only worksheet, header row frozen."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("cod")
    sheet.freeze_panes = "A2"
    for row in rows:
        cells: list[object] = []
        for value in row:
            if isinstance(value, str):
                cell = WriteOnlyCell(sheet, value=value)
                cell.data_type = "s"  # text as written: openpyxl makes "=…" a live formula
                cells.append(cell)
            else:
                cells.append(value)
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
