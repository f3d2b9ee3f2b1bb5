"""Read a payout statement (CSV or xlsx) into lines; a row we cannot read is kept with why.

The file is read row by row (openpyxl in read-only mode, the csv module over the decoded text),
never as a table in memory. The header is the first row within HEADER_SCAN rows that names a
waybill column and a COD amount column for the carrier (columns.py); rows above it may carry
the statement's reference and date. A row without a waybill or with an amount that is not a
whole number of đồng is parked, never a reason to refuse the file.
"""

from __future__ import annotations

import csv
import io
import itertools
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from openpyxl import load_workbook

from api.cod.columns import (
    REQUIRED,
    STATEMENT_DATE_LABELS,
    STATEMENT_REF_LABELS,
    Field,
    aliases,
    header_key,
)
from api.cod.values import LOCAL, amount, moment, text_cell

HEADER_SCAN = 30
MAX_LINES = 200_000
WAYBILL_MAX = 64
_DELIMITERS = (";", ",", "\t")
_XLSX_MAGIC = b"PK\x03\x04"

Progress = Callable[[int, int], None]


class StatementError(ValueError):
    """The file as a whole cannot be read as a statement (the API answers 422)."""


@dataclass(frozen=True)
class ParsedLine:
    """One data row; `problem` set means it is parked."""

    line_no: int
    waybill: str | None = None
    collected: int | None = None
    fee: int | None = None
    paid: int | None = None
    paid_at: datetime | None = None
    problem: str | None = None


@dataclass
class ParsedStatement:
    """The rows of a statement and what was found above its table."""

    file_format: str
    columns: dict[str, str] = field(default_factory=dict)
    statement_ref: str | None = None
    statement_date: date | None = None
    lines: list[ParsedLine] = field(default_factory=list)


def is_xlsx(content: bytes) -> bool:
    """An xlsx file is a zip archive."""
    return content.startswith(_XLSX_MAGIC)


def parse_statement(
    content: bytes, carrier: str, on_progress: Progress | None = None
) -> ParsedStatement:
    """Every data row of the file as a line (bad rows parked); StatementError for the file."""
    if is_xlsx(content):
        parsed = ParsedStatement("xlsx")
        sheet_rows, total = _xlsx_rows(content)
        _read(parsed, sheet_rows, total, carrier, on_progress)
        return parsed
    text = _decode(content)
    delimiter = _delimiter(text, carrier)
    parsed = ParsedStatement("csv")
    csv_rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    _read(parsed, csv_rows, text.count("\n") + 1, carrier, on_progress)
    return parsed


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise StatementError("the file is neither an xlsx workbook nor UTF-8 text") from None


def _delimiter(text: str, carrier: str) -> str:
    """The delimiter under which a header appears (a semicolon first: Excel's Vietnamese CSV)."""
    head = list(itertools.islice(io.StringIO(text, newline=""), HEADER_SCAN))
    for delimiter in _DELIMITERS:
        if _find_header(csv.reader(head, delimiter=delimiter), carrier) is not None:
            return delimiter
    raise _no_header(carrier)


def _xlsx_rows(content: bytes) -> tuple[Iterator[tuple[Any, ...]], int]:
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise StatementError(f"the workbook cannot be read ({type(exc).__name__})") from None
    sheet = book.worksheets[0]
    # max_row comes from the sheet's declared dimension: an estimate for the progress bar.
    return sheet.iter_rows(values_only=True), sheet.max_row or 0


def _find_header(rows: Iterable[Any], carrier: str) -> tuple[int, dict[Field, int]] | None:
    accepted = aliases(carrier)
    for index, row in enumerate(rows):
        if index >= HEADER_SCAN:
            return None
        found = _header_here(list(row), accepted)
        if found is not None:
            return index, found
    return None


def _no_header(carrier: str) -> StatementError:
    return StatementError(
        f"no header row with a waybill and a COD amount column for {carrier} in the first "
        f"{HEADER_SCAN} rows (docs/cod-statements.md lists the accepted column names)"
    )


def _read(
    parsed: ParsedStatement,
    rows: Iterable[Any],
    total: int,
    carrier: str,
    on_progress: Progress | None,
) -> None:
    accepted = aliases(carrier)
    header: dict[Field, int] | None = None
    for index, row in enumerate(rows):
        cells = list(row)
        if header is None:
            if index >= HEADER_SCAN:
                break
            header = _header_here(cells, accepted)
            if header is None:
                _statement_label(parsed, cells)
            else:
                parsed.columns = {name.value: str(cells[i]).strip() for name, i in header.items()}
            continue
        if all(text_cell(c) == "" for c in cells):
            continue
        if len(parsed.lines) >= MAX_LINES:
            raise StatementError(f"more than {MAX_LINES} lines: split the statement")
        parsed.lines.append(parse_row(index + 1, cells, header))
        if on_progress is not None and len(parsed.lines) % 1000 == 0:
            on_progress(index + 1, max(total, index + 1))
    if header is None:
        raise _no_header(carrier)
    if on_progress is not None:
        on_progress(len(parsed.lines), len(parsed.lines))


def _header_here(
    cells: list[Any], accepted: dict[Field, frozenset[str]]
) -> dict[Field, int] | None:
    """Field -> column position when this row is a header (names a waybill and a COD amount)."""
    keys = [header_key(cell) for cell in cells]
    found: dict[Field, int] = {}
    for name, names in accepted.items():
        position = next((i for i, key in enumerate(keys) if key in names), None)
        if position is not None:
            found[name] = position
    return found if all(name in found for name in REQUIRED) else None


def _statement_label(parsed: ParsedStatement, cells: list[Any]) -> None:
    """ "Mã bảng kê: BK-1" in one cell, or the label in one cell and the value in the next."""
    texts = [text_cell(c) for c in cells]
    for i, cell in enumerate(texts):
        label, _, value = cell.partition(":")
        if not value.strip() and i + 1 < len(texts):
            value = texts[i + 1]
        key = header_key(label)
        if not value.strip():
            continue
        if parsed.statement_ref is None and key in {header_key(x) for x in STATEMENT_REF_LABELS}:
            parsed.statement_ref = value.replace("\x00", "").strip()[:100]
        elif parsed.statement_date is None and key in {
            header_key(x) for x in STATEMENT_DATE_LABELS
        }:
            try:
                when = moment(cells[i + 1] if ":" not in cell else value.strip())
            except ValueError:
                continue
            parsed.statement_date = when.astimezone(LOCAL).date() if when else None


def _cell(cells: list[Any], header: dict[Field, int], name: Field) -> Any:
    position = header.get(name)
    return cells[position] if position is not None and position < len(cells) else None


def parse_row(line_no: int, cells: list[Any], header: dict[Field, int]) -> ParsedLine:
    """One data row: its values, or the first problem found (the line is then parked)."""
    waybill = text_cell(_cell(cells, header, Field.WAYBILL))
    values: dict[str, Any] = {}
    problems: list[str] = []
    if not waybill:
        problems.append("no waybill")
    elif "\x00" in waybill:
        # PostgreSQL text cannot hold NUL; the row is kept, its waybill is not.
        problems.append("waybill contains a NUL character")
        waybill = waybill.replace("\x00", "")
    elif len(waybill) > WAYBILL_MAX:
        problems.append(f"waybill longer than {WAYBILL_MAX} characters")
        waybill = waybill[:WAYBILL_MAX]
    for name, key in ((Field.COLLECTED, "collected"), (Field.FEE, "fee"), (Field.PAID, "paid")):
        raw = _cell(cells, header, name)
        try:
            values[key] = amount(raw)
        except ValueError as exc:
            problems.append(f"{name.value}: {exc}")
    if values.get("collected") is None and not any(p.startswith("collected") for p in problems):
        problems.append("collected: no COD amount")
    try:
        values["paid_at"] = moment(_cell(cells, header, Field.PAID_AT))
    except ValueError as exc:
        problems.append(f"paid_at: {exc}")
    if values.get("paid") is None and values.get("collected") is not None:
        fee = values.get("fee")
        values["paid"] = values["collected"] - fee if fee is not None else None
    return ParsedLine(
        line_no=line_no,
        waybill=waybill or None,
        problem="; ".join(problems)[:500] if problems else None,
        **values,
    )
