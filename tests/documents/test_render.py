"""Every document of a batch, read back: text from the PDFs, barcodes from pixels, rows from tables."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from pathlib import Path

import pytest
import zxingcpp
from openpyxl import load_workbook

from api.documents import sample
from api.documents.render import (
    DocumentKind,
    TableFormat,
    filename,
    media_type,
    render_pdf,
    render_table,
)
from api.documents.sheets import BatchSheet
from api.documents.text import kg, money
from tests.documents.readback import barcodes, page_image, pdf_text, save_png

pytestmark = pytest.mark.pure

PARCELS = 9
CODE_128 = str(zxingcpp.BarcodeFormat.Code128)


def pdf(kind: DocumentKind, parcels: int = PARCELS) -> tuple[int, bytes]:
    out = io.BytesIO()
    pages = render_pdf(kind, sample.sheet(parcels), out)
    return pages, out.getvalue()


def test_manifest_lists_every_waybill_the_totals_and_the_names_with_their_diacritics() -> None:
    expected = list(sample.parcels(PARCELS))
    pages, data = pdf(DocumentKind.MANIFEST)
    text = "\n".join(pdf_text(data))
    assert pages == 1
    assert data.startswith(b"%PDF")
    for parcel in expected:
        assert parcel.waybill in text
        assert parcel.receiver.name in text  # "Hoàng Thị Ánh Tuyết", "Ngô Thị Ỷ Lan", ...
    assert "Biên bản bàn giao hàng" in text
    assert f"Tổng số kiện: {PARCELS}" in text
    assert f"Tổng khối lượng: {kg(sum(p.weight_g for p in expected))}" in text
    assert f"Tổng tiền thu hộ (COD): {money(sum(p.cod_vnd for p in expected))}" in text
    assert "ký, ghi rõ họ tên" in text
    assert "Ngày 30 tháng 11 năm 2026" in text


def test_a_long_manifest_flows_onto_more_pages_with_the_totals_once() -> None:
    pages, data = pdf(DocumentKind.MANIFEST, 120)
    texts = pdf_text(data)
    assert pages == len(texts) > 1
    assert sum(t.count("Tổng số kiện: 120") for t in texts) == 1
    assert all("Mã vận đơn" in t for t in texts)  # the heading is repeated on each page
    last = list(sample.parcels(120))[-1]
    assert last.waybill in texts[-1] or last.waybill in texts[-2]


def test_pick_list_sums_the_variants_in_the_order_given() -> None:
    sheet = sample.sheet(PARCELS)
    pages, data = pdf(DocumentKind.PICK_LIST)
    text = " ".join(pdf_text(data)[0].split())
    assert pages == 1
    positions = [text.index(line.name) for line in sheet.pick_lines]
    assert positions == sorted(positions)
    total_qty = sum(line.quantity for line in sheet.pick_lines)
    total_kg = kg(sum(line.weight_g for line in sheet.pick_lines))
    assert f"Tổng cộng {total_qty} {total_kg}" in text
    assert "Danh sách lấy hàng" in text


def test_packing_slips_one_per_parcel_with_buyer_lines_and_cod() -> None:
    pages, data = pdf(DocumentKind.PACKING_SLIPS)
    texts = pdf_text(data)
    assert pages == len(texts) == (PARCELS + 1) // 2
    text = "\n".join(texts)
    for parcel in sample.parcels(PARCELS):
        assert text.count(parcel.waybill) == 1
        assert parcel.receiver.phone in text
        for line in parcel.lines:
            assert line.name in text
        if parcel.cod_vnd:
            assert f"Thu hộ (COD): {money(parcel.cod_vnd)}" in text
        if parcel.note:
            assert f"Ghi chú: {parcel.note}" in text
    assert "Không thu hộ" in text


def test_thermal_label_barcode_decodes_back_to_the_waybill(tmp_path: Path) -> None:
    first = next(sample.parcels(1))
    pages, data = pdf(DocumentKind.LABELS_THERMAL)
    assert pages == PARCELS
    png = save_png(data, tmp_path / "label-thermal-page1.png", dpi=203)  # a thermal head's dots
    assert png.stat().st_size > 0
    assert barcodes(page_image(data, 0, dpi=203)) == [(CODE_128, first.waybill)]
    text = pdf_text(data)[0]
    for shown in (first.waybill, first.receiver.name, first.sender.name, kg(first.weight_g),
                  first.sort_code or "", money(first.cod_vnd)):  # fmt: skip
        assert shown in text


def test_a4_sheet_holds_four_labels_whose_barcodes_all_decode(tmp_path: Path) -> None:
    waybills = {p.waybill for p in list(sample.parcels(PARCELS))[:4]}
    pages, data = pdf(DocumentKind.LABELS_A4)
    assert pages == 3  # 4 + 4 + 1
    save_png(data, tmp_path / "labels-a4-page1.png")
    found = barcodes(page_image(data, 0, dpi=300))
    assert {text for _, text in found} == waybills
    assert {fmt for fmt, _ in found} == {CODE_128}


def test_an_empty_batch_still_gives_a_one_page_document() -> None:
    for kind in DocumentKind:
        pages, data = pdf(kind, 0)
        assert pages == 1
        assert data.startswith(b"%PDF")


def test_csv_has_a_bom_and_reads_back_with_vietnamese_intact() -> None:
    out = io.BytesIO()
    count = render_table(DocumentKind.LABELS_THERMAL, sample.sheet(PARCELS), out, TableFormat.CSV)
    raw = out.getvalue()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert count == PARCELS == len(rows) - 1
    assert rows[0][0] == "Mã vận đơn"
    expected = list(sample.parcels(PARCELS))
    assert [r[0] for r in rows[1:]] == [p.waybill for p in expected]
    assert [r[9] for r in rows[1:]] == [p.receiver.name for p in expected]


def test_xlsx_manifest_reads_back_with_numbers_and_a_totals_row() -> None:
    out = io.BytesIO()
    count = render_table(DocumentKind.MANIFEST, sample.sheet(PARCELS), out, TableFormat.XLSX)
    book = load_workbook(io.BytesIO(out.getvalue()), read_only=True)
    rows = list(book.active.iter_rows(values_only=True))  # type: ignore[union-attr]
    expected = list(sample.parcels(PARCELS))
    assert count == PARCELS + 1 == len(rows) - 1
    assert rows[0][1] == "Mã vận đơn"
    assert [r[1] for r in rows[1:-1]] == [p.waybill for p in expected]
    assert [r[3] for r in rows[1:-1]] == [p.receiver.name for p in expected]
    assert rows[-1][0] == "Tổng cộng"
    assert rows[-1][6] == sum(p.cod_vnd for p in expected)
    assert rows[-1][5] == pytest.approx(sum(p.weight_g for p in expected) / 1000)


@pytest.mark.parametrize("kind", list(DocumentKind))
@pytest.mark.parametrize("fmt", list(TableFormat))
def test_every_kind_has_a_table(kind: DocumentKind, fmt: TableFormat) -> None:
    out = io.BytesIO()
    count = render_table(kind, sample.sheet(PARCELS), out, fmt)
    sheet = sample.sheet(PARCELS)
    expected = {DocumentKind.PICK_LIST: len(sheet.pick_lines) + 1,
                DocumentKind.MANIFEST: PARCELS + 1}.get(kind, PARCELS)  # fmt: skip
    assert count == expected
    assert out.getvalue()


def test_names_and_media_types() -> None:
    sheet = sample.sheet(1)
    assert filename(DocumentKind.LABELS_A4, sheet, "pdf") == "lo-42-2026-11-30-labels-a4.pdf"
    assert media_type("pdf") == "application/pdf"
    assert media_type("xlsx").endswith("spreadsheetml.sheet")
    with pytest.raises(ValueError, match="unknown"):
        media_type("docx")


def test_long_text_and_an_unbooked_parcel_stay_inside_the_label(tmp_path: Path) -> None:
    first = next(sample.parcels(1))
    long_name = "Tôn Nữ Hoàng Thị Phương Thảo Nguyễn Ngọc Ánh Dương Khánh Linh " * 2
    odd = replace(
        first, waybill="", sort_code=None, note="Giao giờ hành chính " * 6,
        receiver=replace(first.receiver, name=long_name,
                         address_lines=("Số 1 đường rất dài " * 8, "Phường Bến Thành", "TP HCM")),
        lines=first.lines * 20,
    )  # fmt: skip
    sheet = replace(sample.sheet(1), parcels=iter([odd]))
    out = io.BytesIO()
    assert render_pdf(DocumentKind.LABELS_THERMAL, sheet, out) == 1
    save_png(out.getvalue(), tmp_path / "label-long.png", dpi=150)
    text = " ".join(pdf_text(out.getvalue())[0].split())
    assert "CHƯA CÓ MÃ VẬN ĐƠN" in text
    assert "Tôn Nữ Hoàng Thị Phương Thảo" in text
    assert "…" in text
    assert barcodes(page_image(out.getvalue(), 0)) == []
    slips = io.BytesIO()
    sheet = replace(sample.sheet(1), parcels=iter([odd]))
    assert render_pdf(DocumentKind.PACKING_SLIPS, sheet, slips) == 1
    assert "và 28 dòng nữa" in " ".join(pdf_text(slips.getvalue())[0].split())


def test_pick_list_table_ends_with_the_totals() -> None:
    sheet = sample.sheet(PARCELS)
    out = io.BytesIO()
    render_table(DocumentKind.PICK_LIST, sheet, out, TableFormat.XLSX)
    book = load_workbook(io.BytesIO(out.getvalue()), read_only=True).active
    assert book is not None
    rows = list(book.iter_rows(values_only=True))
    assert [r[2] for r in rows[1:-1]] == [line.sku for line in sheet.pick_lines]
    assert rows[-1][0] == "Tổng cộng"
    assert rows[-1][4] == sum(line.quantity for line in sheet.pick_lines)


def test_documents_drawn_side_by_side_in_threads_match_one_drawn_alone() -> None:
    """The API draws in worker threads: two at once must not mix their fonts or pages."""
    from concurrent.futures import ThreadPoolExecutor

    def draw(kind: DocumentKind) -> list[str]:
        return pdf_text(pdf(kind)[1])

    alone = draw(DocumentKind.MANIFEST)
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(draw, [DocumentKind.MANIFEST, DocumentKind.LABELS_A4] * 3))
    assert together[0] == together[2] == together[4] == alone


def _hostile_sheet() -> BatchSheet:
    """A batch whose buyer typed a spreadsheet formula as their name and note."""
    first = next(sample.parcels(1))
    evil = replace(
        first,
        receiver=replace(first.receiver, name='=HYPERLINK("http://x.invalid","Bấm vào")'),
        note="@SUM(1+1)",
        platform_order_id="+cmd|' /C calc'!A0",
    )
    return replace(sample.sheet(1), parcels=iter([evil]))


def test_a_buyer_typed_formula_stays_text_in_csv_and_xlsx() -> None:
    out = io.BytesIO()
    render_table(DocumentKind.PACKING_SLIPS, _hostile_sheet(), out, TableFormat.XLSX)
    book = load_workbook(io.BytesIO(out.getvalue())).worksheets[0]
    row = next(iter(book.iter_rows(min_row=2)))
    cells = {c.value: c.data_type for c in row if isinstance(c.value, str)}
    assert cells['=HYPERLINK("http://x.invalid","Bấm vào")'] == "s"  # text, never a formula
    assert all(kind != "f" for kind in cells.values())

    out = io.BytesIO()
    render_table(DocumentKind.PACKING_SLIPS, _hostile_sheet(), out, TableFormat.CSV)
    rows = list(csv.reader(io.StringIO(out.getvalue().decode("utf-8-sig"))))
    values = rows[1]
    # No cell starts with a character a spreadsheet reads as a formula...
    assert not any(v[:1] in ("=", "+", "@") for v in values), values
    # ...and the buyer's words are all still there, behind a leading apostrophe.
    assert '\'=HYPERLINK("http://x.invalid","Bấm vào")' in values
    assert "'@SUM(1+1)" in values
    # Phone numbers and plain figures are left as they are.
    assert next(sample.parcels(1)).receiver.phone in values
