"""The handover manifest: every waybill the driver takes, the totals, and both signatures."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from reportlab.lib.units import mm

from api.documents.layout import MARGIN, Column, Flow, draw_text, open_canvas
from api.documents.pick_list import subtitle
from api.documents.sheets import BatchSheet, Parcel
from api.documents.tables import Cell
from api.documents.text import kg, kg_number, money

TITLE = "Biên bản bàn giao hàng"
HEADINGS = (
    "STT", "Mã vận đơn", "Mã đơn", "Người nhận", "Tỉnh/Thành", "Khối lượng (kg)",
    "Thu hộ COD (₫)", "Đã đóng gói",
)  # fmt: skip
MONEY_COLUMNS = frozenset({6})
COLUMNS = (
    # Centred, so the number never runs into the waybill beside it.
    Column("STT", 0.06, "center"),
    Column("Mã vận đơn", 0.17),
    Column("Mã đơn", 0.12),
    Column("Người nhận", 0.20),
    Column("Tỉnh/Thành", 0.19),
    Column("Khối lượng", 0.10, "right"),
    Column("Thu hộ (COD)", 0.16, "right"),
)


def _province(parcel: Parcel) -> str:
    return parcel.receiver.address_lines[-1] if parcel.receiver.address_lines else ""


def _short_province(parcel: Parcel) -> str:
    """`Thành phố Hồ Chí Minh` -> `TP Hồ Chí Minh`, as forms write it (the column is narrow)."""
    name = _province(parcel)
    for long, short in (("Thành phố ", "TP "), ("Tỉnh ", "")):
        if name.startswith(long):
            return short + name[len(long) :]
    return name


def rows(sheet: BatchSheet) -> Iterator[list[Cell]]:
    """One row per parcel, then one totals row (parcel count, weight, COD)."""
    count = weight = cod = 0
    for p in sheet.parcels:
        count += 1
        weight += p.weight_g
        cod += p.cod_vnd
        yield [count, p.waybill, p.order_reference, p.receiver.name, _province(p),
               kg_number(p.weight_g), p.cod_vnd, "có" if p.packed_at else "chưa"]  # fmt: skip
    yield ["Tổng cộng", f"{count} kiện", "", "", "", kg_number(weight), cod, ""]


def draw(sheet: BatchSheet, out: BinaryIO) -> int:
    """The manifest on A4, as many pages as the parcels need; the number of pages."""
    flow = Flow(open_canvas(out, f"{TITLE} – lô {sheet.batch_id}"), TITLE, subtitle(sheet), COLUMNS)
    count = weight = cod = 0
    for p in sheet.parcels:
        count += 1
        weight += p.weight_g
        cod += p.cod_vnd
        flow.row([str(count), p.waybill, p.order_reference, p.receiver.name, _short_province(p),
                  kg(p.weight_g), money(p.cod_vnd)])  # fmt: skip
    flow.row(["", f"{count} kiện", "", "", "Tổng cộng", kg(weight), money(cod)], bold=True,
             ruled=True)  # fmt: skip
    flow.room(60 * mm)  # the totals and signatures stay together on one page
    flow.y -= 3 * mm
    flow.line(f"Tổng số kiện: {count}", 11, bold=True)
    flow.line(f"Tổng khối lượng: {kg(weight)}", 11, bold=True)
    flow.line(f"Tổng tiền thu hộ (COD): {money(cod)}", 11, bold=True)
    d = sheet.pickup_date
    where = sheet.collection_point.name
    flow.line(f"Ngày {d.day:02d} tháng {d.month:02d} năm {d.year}, tại {where}", 10, gap=6)
    _signatures(flow, sheet)
    return flow.finish()


def _signatures(flow: Flow, sheet: BatchSheet) -> None:
    c, half = flow.canvas, flow.width / 2
    sides = (
        (f"BÊN GIAO ({sheet.cooperative_name})", "Nhân viên kho"),
        (f"BÊN NHẬN ({sheet.carrier_name})", "Tài xế / bưu tá"),
    )
    for index, (who, role) in enumerate(sides):
        x = MARGIN + index * half
        draw_text(c, x, flow.y, who, 10, half - 6, bold=True, align="center")
        draw_text(c, x, flow.y - 13, f"{role} – ký, ghi rõ họ tên", 8.5, half - 6, align="center")
        c.setLineWidth(0.5)
        c.line(x + 12 * mm, flow.y - 30 * mm, x + half - 12 * mm, flow.y - 30 * mm)
    flow.y -= 34 * mm
