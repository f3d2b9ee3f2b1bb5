"""The documents as spreadsheets: CSV (UTF-8 with BOM, so Excel shows Vietnamese) and xlsx.

Both are written row by row from an iterator: the xlsx workbook is openpyxl's write-only kind,
which spools rows to a temporary file instead of holding cells in memory.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from api.documents.text import nfc

Cell = str | int | float
MONEY_FORMAT = '#,##0 "₫"'
# Buyers type their own names, addresses and notes on the platforms: a cell that starts like a
# formula (=, +, -, @, tab, CR) would run as one when the file is opened in a spreadsheet.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A phone number or a plain figure ("+84 912 345 678", "-5") is data, left as it is.
PLAIN_NUMBER = re.compile(r"[+-]?[\d\s.,()]+")


def csv_text(value: str) -> str:
    """The text NFC-composed, with a leading apostrophe if a spreadsheet would read a formula."""
    value = nfc(value)
    if value.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def write_csv(headings: Sequence[str], rows: Iterable[Sequence[Cell]], out: BinaryIO) -> int:
    """CSV with a byte-order mark and CRLF line ends; the number of data rows."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    try:
        writer = csv.writer(text)
        writer.writerow([nfc(h) for h in headings])
        count = 0
        for row in rows:
            writer.writerow([csv_text(v) if isinstance(v, str) else v for v in row])
            count += 1
        text.flush()
        return count
    finally:
        text.detach()  # the caller owns `out`


def write_xlsx(
    title: str,
    headings: Sequence[str],
    rows: Iterable[Sequence[Cell]],
    out: BinaryIO,
    money_columns: frozenset[int] = frozenset(),
) -> int:
    """One-sheet xlsx (write-only, streamed); the number of data rows."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=nfc(title)[:31])
    bold = Font(bold=True)
    head = []
    for heading in headings:
        cell = WriteOnlyCell(sheet, value=nfc(heading))
        cell.font = bold
        head.append(cell)
    sheet.append(head)
    count = 0
    for row in rows:
        cells = []
        for index, value in enumerate(row):
            cell = WriteOnlyCell(sheet, value=nfc(value) if isinstance(value, str) else value)
            if isinstance(value, str):
                cell.data_type = "s"  # text as typed: openpyxl makes "=…" a live formula
            if index in money_columns:
                cell.number_format = MONEY_FORMAT
            cells.append(cell)
        sheet.append(cells)
        count += 1
    book.save(out)
    return count
