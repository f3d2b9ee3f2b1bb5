"""Packing slips: one per parcel, two to an A4 page (cut along the dashed line)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from api.documents import fonts
from api.documents.layout import MARGIN, Align, draw_per_page, draw_text, open_canvas
from api.documents.sheets import BatchSheet, Parcel
from api.documents.tables import Cell
from api.documents.text import day, kg, kg_number, moment, money, wrap

TITLE = "Phiếu đóng gói"
HEADINGS = (
    "Mã vận đơn", "Mã đơn", "Mã đơn sàn", "Người nhận", "SĐT người nhận", "Địa chỉ người nhận",
    "Hàng (SKU × số lượng)", "Khối lượng (kg)", "Thu hộ COD (₫)", "Ghi chú", "Đã đóng gói lúc",
)  # fmt: skip
MONEY_COLUMNS = frozenset({8})
HALF = A4[1] / 2
MAX_LINES = 12  # what fits half a page; the rest is counted, never silently dropped


def rows(sheet: BatchSheet) -> Iterator[list[Cell]]:
    """One row per parcel; its lines joined in one cell."""
    for p in sheet.parcels:
        yield [
            p.waybill, p.order_reference, p.platform_order_id, p.receiver.name, p.receiver.phone,
            ", ".join(p.receiver.address_lines),
            "; ".join(f"{line.sku} × {line.quantity}" for line in p.lines),
            kg_number(p.weight_g), p.cod_vnd, p.note, moment(p.packed_at) if p.packed_at else "",
        ]  # fmt: skip


def draw(sheet: BatchSheet, out: BinaryIO) -> int:
    """Two slips to an A4 page; the number of pages."""
    c = open_canvas(out, f"{TITLE} – lô {sheet.batch_id}")

    def draw_half(parcel: Parcel, slot: int) -> None:
        _slip(c, parcel, sheet, top=A4[1] - slot * HALF)
        if slot == 0:
            c.saveState()
            c.setDash(3, 3)
            c.setStrokeGray(0.6)
            c.line(MARGIN / 2, HALF, A4[0] - MARGIN / 2, HALF)
            c.restoreState()

    pages = draw_per_page(c, sheet.parcels, 2, draw_half)
    c.save()
    return pages


def _slip(c: Canvas, p: Parcel, sheet: BatchSheet, top: float) -> None:
    w = A4[0] - 2 * MARGIN
    x, y = MARGIN, top - MARGIN + 2 * mm - 14
    draw_text(c, x, y, TITLE, 14, w * 0.5, bold=True)
    draw_text(c, x + w * 0.5, y, p.waybill, 14, w * 0.5, bold=True, align="right")
    y -= 13
    draw_text(c, x, y, f"Lô #{sheet.batch_id} · {sheet.carrier_name} · lấy hàng "
              f"{day(sheet.pickup_date)} {sheet.window}", 8.5, w * 0.6)  # fmt: skip
    draw_text(c, x + w * 0.6, y, f"Mã đơn {p.order_reference} · sàn {p.platform_order_id}", 8.5,
              w * 0.4, align="right")  # fmt: skip
    y -= 6 * mm
    draw_text(c, x, y, "NGƯỜI NHẬN", 7.5, w, bold=True)
    y -= 13
    draw_text(c, x, y, f"{p.receiver.name} · ĐT {p.receiver.phone}", 11, w, bold=True)
    for line in wrap(", ".join(p.receiver.address_lines), fonts.REGULAR, 9.5, w, 2):
        y -= 12
        draw_text(c, x, y, line, 9.5, w)
    y -= 6 * mm
    y = _lines(c, p, x, y, w)
    cod = f"Thu hộ (COD): {money(p.cod_vnd)}" if p.cod_vnd else "Không thu hộ (đã thanh toán)"
    draw_text(c, x, y, cod, 12, w * 0.6, bold=True)
    draw_text(c, x + w * 0.6, y, f"Khối lượng kiện: {kg(p.weight_g)}", 10, w * 0.4, bold=True,
              align="right")  # fmt: skip
    if p.note:
        y -= 14
        draw_text(c, x, y, f"Ghi chú: {p.note}", 9.5, w)
    base = top - HALF + 8 * mm
    if p.packed_at:
        draw_text(c, x, base, f"Đã đóng gói lúc {moment(p.packed_at)}", 9, w * 0.5)
    else:
        c.rect(x, base - 1, 8, 8)
        draw_text(c, x + 12, base, "Đã kiểm và đóng gói", 9, w * 0.5 - 12)
    draw_text(c, x + w * 0.5, base, "Người đóng gói: ....................",
              9, w * 0.5, align="right")  # fmt: skip


def _lines(c: Canvas, p: Parcel, x: float, y: float, w: float) -> float:
    shares = (0.2, 0.56, 0.1, 0.14)
    heads = ("Mã SKU", "Tên hàng", "Số lượng", "Khối lượng")
    aligns: tuple[Align, ...] = ("left", "left", "right", "right")

    def row(values: tuple[str, ...], bold: bool) -> None:
        left = x
        for share, value, align in zip(shares, values, aligns, strict=True):
            draw_text(c, left, y, value, 9, share * w - 4, bold=bold, align=align)
            left += share * w

    row(heads, True)
    c.setLineWidth(0.5)
    c.line(x, y - 4, x + w, y - 4)
    y -= 2
    for line in p.lines[:MAX_LINES]:
        y -= 14
        row((line.sku, line.name, str(line.quantity), kg(line.weight_g)), False)
    hidden = len(p.lines) - MAX_LINES
    if hidden > 0:
        y -= 13
        row(("", f"… và {hidden} dòng nữa (xem bảng CSV/xlsx)", "", ""), False)
    c.line(x, y - 5, x + w, y - 5)
    return y - 24
