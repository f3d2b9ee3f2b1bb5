"""Reading statements: header variants, delimiters, amounts and dates, parked rows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from api.cod.parsing import StatementError, parse_statement
from api.cod.values import amount, moment
from tests.cod.rig import xlsx

pytestmark = pytest.mark.pure


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (250000, 250000), (250000.0, 250000), ("250000", 250000), ("250.000", 250000),
        ("1,250,000", 1250000), ("1 250 000 đ", 1250000), ("250.000 VNĐ", 250000),
        ("250000.00", 250000), ("", None), (None, None),
    ],
)  # fmt: skip
def test_amounts_as_spreadsheets_write_them(raw: object, expected: int | None) -> None:
    assert amount(raw) == expected


@pytest.mark.parametrize("raw", ["12.5", "1.250,000", "abc", "-5000", 12.5, True])
def test_amounts_that_are_not_whole_dong(raw: object) -> None:
    with pytest.raises(ValueError, match=r"."):
        amount(raw)


def test_local_dates_become_utc() -> None:
    assert moment("28/11/2026 09:30") == datetime(2026, 11, 28, 2, 30, tzinfo=UTC)
    assert moment("2026-11-28") == datetime(2026, 11, 27, 17, 0, tzinfo=UTC)
    assert moment(datetime(2026, 11, 28, 7, 0)) == datetime(2026, 11, 28, 0, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="not a date"):
        moment("hôm qua")


@pytest.mark.parametrize(
    "header",
    [
        "Mã vận đơn;Tiền thu hộ",
        "MA VAN DON;TIEN THU HO (VND)",
        "ORDER_NUMBER;MONEY_COLLECTION",
        "mã vận đơn;cod",
    ],
)
def test_viettel_post_header_variants(header: str) -> None:
    parsed = parse_statement(f"{header}\nVTP1;1000\n".encode(), "viettel_post")
    assert [(line.waybill, line.collected) for line in parsed.lines] == [("VTP1", 1000)]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_ghn_headers_under_each_delimiter(delimiter: str) -> None:
    text = delimiter.join(["OrderCode", "CODAmount", "CODTransferDate"]) + "\n"
    text += delimiter.join(["GHN1", "5000", "27/11/2026"]) + "\n"
    parsed = parse_statement(("\ufeff" + text).encode(), "ghn")
    assert parsed.lines[0].waybill == "GHN1"
    assert parsed.lines[0].paid_at == datetime(2026, 11, 26, 17, 0, tzinfo=UTC)


def test_the_statement_reference_and_date_above_the_table() -> None:
    text = "Mã bảng kê: BK-9\nNgày đối soát;28/11/2026\nMã vận đơn;Tiền thu hộ\nA;1\n"
    parsed = parse_statement(text.encode(), "viettel_post")
    assert parsed.statement_ref == "BK-9"
    assert str(parsed.statement_date) == "2026-11-28"


def test_bad_rows_are_parked_with_their_reason_and_blank_rows_skipped() -> None:
    book = xlsx(
        ("Mã vận đơn", "Tiền thu hộ", "Phí", "Ngày thanh toán"),
        [("A", 1000, 10, None), (None, None, None, None), (None, 500, None, None),
         ("B", "mười", None, None), ("C", 100, None, "ngày mai"), (123456789, 7, 1, None)],
    )  # fmt: skip
    parsed = parse_statement(book, "viettel_post")
    assert [(line.line_no, line.problem) for line in parsed.lines] == [
        (2, None), (4, "no waybill"), (5, "collected: not a whole number of đồng"),
        (6, "paid_at: not a date (dd/mm/yyyy or yyyy-mm-dd)"), (7, None),
    ]  # fmt: skip
    assert parsed.lines[0].paid == 990
    assert parsed.lines[-1].waybill == "123456789"


def test_a_file_without_a_header_is_refused() -> None:
    with pytest.raises(StatementError, match="no header row"):
        parse_statement("Mã vận đơn;Số tiền\nA;1\n".encode(), "viettel_post")
    with pytest.raises(StatementError, match="neither an xlsx"):
        parse_statement(b"\xff\xfe\x00\x00", "ghn")


def test_nul_characters_never_reach_the_database() -> None:
    text = "Mã bảng kê: BK\x00-1\nMã vận đơn;Tiền thu hộ;Ngày thanh toán\nA\x00B;100;\nC;1\x002;\nD;3;1\x00/1/2026\n"
    parsed = parse_statement(text.encode(), "viettel_post")
    assert parsed.statement_ref == "BK-1"
    assert [(line.waybill, line.problem is not None) for line in parsed.lines] == [
        ("AB", True),
        ("C", True),
        ("D", True),
    ]
    assert parsed.lines[0].problem == "waybill contains a NUL character"
