"""A tonnage report as CSV or Excel: one header row, one row per group, plain data in."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from openpyxl import Workbook

from api.reports.schemas import Dimension, Measures, ReportRow

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"
_LABELLED = frozenset(
    {Dimension.PROVINCE, Dimension.COMMUNE, Dimension.COOPERATIVE, Dimension.PRODUCT,
     Dimension.LIVE_SESSION}
)  # fmt: skip
_MEASURES = ("orders", "units", "kg", "tonnes", "gmv_vnd")


def header(group_by: Sequence[Dimension]) -> list[str]:
    """Column names: each key (and its name, where it has one), then sold and delivered."""
    columns: list[str] = []
    for dimension in group_by:
        columns.append(dimension.value)
        if dimension in _LABELLED:
            columns.append(f"{dimension.value}_name")
    return columns + [f"{axis}_{m}" for axis in ("sold", "delivered") for m in _MEASURES]


def _measure_cells(measures: Measures, *, exact_text: bool) -> list[object]:
    # CSV gets kg and tonnes as exact decimal text from the integer grams; Excel gets numbers.
    kg: object = f"{measures.grams / 1000:.3f}" if exact_text else measures.kg
    tonnes: object = f"{measures.grams / 1_000_000:.6f}" if exact_text else measures.tonnes
    return [measures.orders, measures.units, kg, tonnes, measures.gmv_vnd]


def cells(group_by: Sequence[Dimension], row: ReportRow, *, exact_text: bool) -> list[object]:
    """One group's cells, in `header` order."""
    values: list[object] = []
    for dimension in group_by:
        values.append(row.key[dimension.value])
        if dimension in _LABELLED:
            values.append(row.label[dimension.value])
    return (
        values
        + _measure_cells(row.sold, exact_text=exact_text)
        + _measure_cells(row.delivered, exact_text=exact_text)
    )


def to_csv(group_by: Sequence[Dimension], rows: Sequence[ReportRow]) -> bytes:
    """UTF-8 CSV with a byte-order mark, so spreadsheet programs read Vietnamese names right."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header(group_by))
    for row in rows:
        writer.writerow(["" if v is None else v for v in cells(group_by, row, exact_text=True)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(group_by: Sequence[Dimension], rows: Sequence[ReportRow]) -> bytes:
    """One worksheet, write-only (rows streamed), header row frozen."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("tonnage")
    sheet.freeze_panes = "A2"
    sheet.append(header(group_by))
    for row in rows:
        sheet.append(cells(group_by, row, exact_text=False))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
