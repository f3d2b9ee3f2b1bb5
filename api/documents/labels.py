"""Shipping labels: 100×150 mm thermal (one per page) and A4 four-up, each with a Code 128 waybill.

The barcode comes from reportlab's own barcode module; its bar width is chosen so the symbol
and both quiet zones (ten bar widths each, as Code 128 asks) fit the label, never wider than
0.5 mm so a 203 dpi thermal head prints whole dots.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from api.documents import fonts
from api.documents.layout import draw_per_page, draw_text, open_canvas
from api.documents.sheets import BatchSheet, Parcel, Party
from api.documents.tables import Cell
from api.documents.text import day, kg, kg_number, money, wrap

TITLE = "Nhãn vận chuyển"
THERMAL = (100 * mm, 150 * mm)
PAD = 4 * mm
MAX_BAR = 0.5 * mm
HEADINGS = (
    "Mã vận đơn", "Mã phân loại", "Hãng vận chuyển", "Dịch vụ", "Mã đơn", "Mã đơn sàn",
    "Người gửi", "SĐT người gửi", "Địa chỉ người gửi",
    "Người nhận", "SĐT người nhận", "Địa chỉ người nhận",
    "Khối lượng (kg)", "Thu hộ COD (₫)",
)  # fmt: skip
MONEY_COLUMNS = frozenset({13})


def rows(sheet: BatchSheet) -> Iterator[list[Cell]]:
    """One row per parcel, with what the label shows."""
    for p in sheet.parcels:
        yield [
            p.waybill, p.sort_code or "", p.carrier, p.service_code or "", p.order_reference,
            p.platform_order_id, p.sender.name, p.sender.phone, ", ".join(p.sender.address_lines),
            p.receiver.name, p.receiver.phone, ", ".join(p.receiver.address_lines),
            kg_number(p.weight_g), p.cod_vnd,
        ]  # fmt: skip


def barcode(waybill: str, width: float, height: float) -> Code128:
    """A Code 128 symbol of the waybill that fits `width` points with its quiet zones."""
    probe = Code128(waybill, barWidth=1, quiet=0, humanReadable=False)
    modules = float(probe.width)
    bar = min(MAX_BAR, width / (modules + 20))
    return Code128(waybill, barWidth=bar, barHeight=height, quiet=1, lquiet=10 * bar,
                   rquiet=10 * bar, humanReadable=False)  # fmt: skip


def _party(c: Canvas, title: str, who: Party, x: float, y: float, w: float, big: bool) -> float:
    """A sender/receiver block drawn downwards from y; the y below it."""
    name_size, line_size = (13.0, 10.5) if big else (8.0, 7.0)
    draw_text(c, x, y, title, 7, w, bold=True)
    y -= name_size + 1
    if big:  # the receiver's phone on its own line: a long name must not push it off
        draw_text(c, x, y, who.name, name_size, w, bold=True)
        y -= line_size + 2
        draw_text(c, x, y, f"ĐT: {who.phone}", line_size, w, bold=True)
    else:
        draw_text(c, x, y, f"{who.name} · {who.phone}", name_size, w)
    address = wrap(", ".join(who.address_lines), fonts.REGULAR, line_size, w, 3 if big else 2)
    for line in address:
        y -= line_size + 1.5
        draw_text(c, x, y, line, line_size, w)
    return y - 3.5 * mm


def draw_label(c: Canvas, parcel: Parcel, sheet: BatchSheet) -> None:
    """One 100×150 mm label with its lower-left corner at the origin."""
    w, h = THERMAL
    inner = w - 2 * PAD
    c.setLineWidth(1)
    c.rect(1.5 * mm, 1.5 * mm, w - 3 * mm, h - 3 * mm)
    y = h - PAD - 12
    draw_text(c, PAD, y, sheet.carrier_name, 13, inner * 0.55, bold=True)
    if parcel.service_code:
        draw_text(c, PAD, y - 11, f"Dịch vụ: {parcel.service_code}", 8, inner * 0.55)
    sort_code = parcel.sort_code or "—"
    box_w, box_h = inner * 0.42, 13 * mm
    c.rect(w - PAD - box_w, h - PAD - box_h, box_w, box_h, fill=1)
    c.setFillGray(1)
    draw_text(c, w - PAD - box_w + 2, h - PAD - box_h + 3.8 * mm, sort_code, 20, box_w - 4,
              bold=True, align="center")  # fmt: skip
    c.setFillGray(0)
    y = h - PAD - box_h - 2 * mm
    c.line(PAD, y, w - PAD, y)
    y -= 2 * mm + 20 * mm
    if parcel.waybill:
        code = barcode(parcel.waybill, inner, 20 * mm)
        code.drawOn(c, PAD + (inner - code.width) / 2, y)
    else:  # not booked yet: no code to scan rather than a wrong one
        draw_text(c, PAD, y + 9 * mm, "CHƯA CÓ MÃ VẬN ĐƠN", 14, inner, bold=True, align="center")
    y -= 5 * mm
    draw_text(c, PAD, y, parcel.waybill, 13, inner, bold=True, align="center")
    y -= 3 * mm
    c.line(PAD, y, w - PAD, y)
    y = _party(c, "NGƯỜI GỬI", parcel.sender, PAD, y - 9, inner, big=False)
    c.line(PAD, y + 1 * mm, w - PAD, y + 1 * mm)
    y = _party(c, "NGƯỜI NHẬN", parcel.receiver, PAD, y - 9, inner, big=True)
    _contents(c, parcel, y, inner)
    _footer(c, parcel, sheet, inner)


def _contents(c: Canvas, parcel: Parcel, y: float, inner: float) -> None:
    """What is inside and the sender's note, in the space above the footer."""
    c.line(PAD, y + 1 * mm, PAD + inner, y + 1 * mm)
    draw_text(c, PAD, y - 8, "NỘI DUNG HÀNG", 7, inner, bold=True)
    summary = "; ".join(f"{line.name} × {line.quantity}" for line in parcel.lines)
    y -= 8
    for text in wrap(summary, fonts.REGULAR, 8, inner, 3):
        y -= 10
        draw_text(c, PAD, y, text, 8, inner)
    if parcel.note:
        draw_text(c, PAD, y - 12, f"Ghi chú: {parcel.note}", 8.5, inner, bold=True)


def _footer(c: Canvas, parcel: Parcel, sheet: BatchSheet, inner: float) -> None:
    base = PAD + 1 * mm
    c.line(PAD, base + 25 * mm, PAD + inner, base + 25 * mm)
    draw_text(c, PAD, base + 19 * mm, "Khối lượng", 7, inner * 0.4, bold=True)
    draw_text(c, PAD, base + 13 * mm, kg(parcel.weight_g), 13, inner * 0.4, bold=True)
    draw_text(c, PAD + inner * 0.4, base + 19 * mm, "Thu hộ (COD)", 7, inner * 0.6, bold=True,
              align="right")  # fmt: skip
    cod = money(parcel.cod_vnd) if parcel.cod_vnd else "Không thu hộ"
    draw_text(c, PAD + inner * 0.4, base + 12.5 * mm, cod, 16, inner * 0.6, bold=True,
              align="right")  # fmt: skip
    order = f"Mã đơn: {parcel.order_reference} · {parcel.platform_order_id}"
    draw_text(c, PAD, base + 6 * mm, order, 7.5, inner)
    draw_text(c, PAD, base + 1.5 * mm, f"Lô #{sheet.batch_id} · lấy hàng {day(sheet.pickup_date)}",
              7, inner * 0.6)  # fmt: skip


def draw_thermal(sheet: BatchSheet, out: BinaryIO) -> int:
    """One 100×150 mm page per parcel; the number of pages."""
    c = open_canvas(out, f"{TITLE} – lô {sheet.batch_id}", THERMAL)
    pages = 0
    for parcel in sheet.parcels:
        draw_label(c, parcel, sheet)
        c.showPage()
        pages += 1
    if not pages:
        draw_text(c, PAD, THERMAL[1] / 2, "Lô không có kiện hàng", 11, THERMAL[0] - 2 * PAD)
        c.showPage()
        pages = 1
    c.save()
    return pages


def draw_a4(sheet: BatchSheet, out: BinaryIO) -> int:
    """Four labels to an A4 page (2×2), scaled to the quarter with cut lines; pages written."""
    c = open_canvas(out, f"{TITLE} (A4) – lô {sheet.batch_id}", A4)
    cell_w, cell_h = A4[0] / 2, A4[1] / 2
    gutter = 3 * mm
    scale = min((cell_w - 2 * gutter) / THERMAL[0], (cell_h - 2 * gutter) / THERMAL[1])

    def draw_quarter(parcel: Parcel, slot: int) -> None:
        if slot == 0:
            _cut_lines(c)
        column, row = slot % 2, slot // 2
        x = column * cell_w + (cell_w - THERMAL[0] * scale) / 2
        y = (1 - row) * cell_h + (cell_h - THERMAL[1] * scale) / 2
        c.saveState()
        c.translate(x, y)
        c.scale(scale, scale)
        draw_label(c, parcel, sheet)
        c.restoreState()

    pages = draw_per_page(c, sheet.parcels, 4, draw_quarter)
    c.save()
    return pages


def _cut_lines(c: Canvas) -> None:
    c.saveState()
    c.setStrokeGray(0.6)
    c.setLineWidth(0.3)
    c.setDash(3, 3)
    c.line(A4[0] / 2, 0, A4[0] / 2, A4[1])
    c.line(0, A4[1] / 2, A4[0], A4[1] / 2)
    c.restoreState()
