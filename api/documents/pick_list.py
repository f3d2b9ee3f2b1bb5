"""The pick list: how much of each variant to fetch for the whole batch, in walking order."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from reportlab.lib.units import mm

from api.documents.layout import Column, Flow, open_canvas
from api.documents.sheets import BatchSheet
from api.documents.tables import Cell
from api.documents.text import day, kg, kg_number, moment

TITLE = "Danh sách lấy hàng"
HEADINGS = ("STT", "Vị trí", "Mã SKU", "Tên hàng", "Số lượng", "Khối lượng (kg)")
COLUMNS = (
    Column("STT", 0.05, "right"),
    Column("Vị trí", 0.12),
    Column("Mã SKU", 0.17),
    Column("Tên hàng", 0.44),
    Column("Số lượng", 0.09, "right"),
    Column("Khối lượng", 0.13, "right"),
)


STATUSES = {
    "open": "đang mở",
    "packing": "đang đóng gói",
    "ready": "sẵn sàng bàn giao",
    "handed_over": "đã bàn giao",
    "closed": "đã đóng",
}


def subtitle(sheet: BatchSheet) -> str:
    """The line under every document's title: which batch, where, with whom, when."""
    point = sheet.collection_point
    # The collection point is usually the cooperative itself: then its place, not its name again.
    where = (
        point.name if point.name != sheet.cooperative_name else ", ".join(point.address_lines[-2:])
    )
    return (
        f"Lô #{sheet.batch_id} · {sheet.cooperative_name} · {where}\n"
        f"{sheet.carrier_name} · lấy hàng {day(sheet.pickup_date)} {sheet.window} · "
        f"{STATUSES.get(sheet.status, sheet.status)} · in lúc {moment(sheet.printed_at)}"
    )


def rows(sheet: BatchSheet) -> Iterator[list[Cell]]:
    """Spreadsheet rows in the order the batch gives (store location, then name), then totals."""
    quantity = weight = 0
    for number, line in enumerate(sheet.pick_lines, start=1):
        yield [number, line.location, line.sku, line.name, line.quantity, kg_number(line.weight_g)]
        quantity += line.quantity
        weight += line.weight_g
    yield ["Tổng cộng", "", "", f"{sheet.totals.parcels} kiện", quantity, kg_number(weight)]


def draw(sheet: BatchSheet, out: BinaryIO) -> int:
    """The pick list as an A4 PDF; the number of pages."""
    flow = Flow(open_canvas(out, f"{TITLE} – lô {sheet.batch_id}"), TITLE, subtitle(sheet), COLUMNS)
    quantity = weight = 0
    for number, line in enumerate(sheet.pick_lines, start=1):
        flow.row([str(number), line.location or "–", line.sku, line.name, str(line.quantity),
                  kg(line.weight_g)])  # fmt: skip
        quantity += line.quantity
        weight += line.weight_g
    flow.row(["", "", "", "Tổng cộng", str(quantity), kg(weight)], bold=True, ruled=True)
    flow.y -= 2 * mm
    flow.line(f"Số kiện trong lô: {sheet.totals.parcels}", 10, gap=3)
    return flow.finish()
