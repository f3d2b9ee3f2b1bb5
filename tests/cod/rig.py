"""COD test data: delivered COD parcels, and carrier statements written as CSV or xlsx."""

from __future__ import annotations

import io
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import httpx
from openpyxl import Workbook
from sqlalchemy import text

from api.core.db import Database, utcnow
from api.orders.models import Order
from api.shipments.models import Shipment

_seq = itertools.count(1)
VTP_HEADER = ("STT", "Mã vận đơn", "Tiền thu hộ (VNĐ)", "Phí thu hộ", "Ngày thanh toán")
GHN_HEADER = ("order_code", "cod_amount", "CODFee", "CODTransferDate")


@dataclass(frozen=True)
class Parcel:
    """A COD order and its shipment, as arranged."""

    order_id: int
    shipment_id: int
    waybill: str
    cod_vnd: int


async def parcel(
    db: Database,
    cooperative_id: int,
    cod_vnd: int,
    *,
    carrier: str = "viettel_post",
    waybill: str | None = None,
    delivered_days_ago: int = 2,
    status: str = "delivered",
) -> Parcel:
    """A COD order, delivered (by default) that many days ago, awaiting the carrier's payout."""
    n = next(_seq)
    waybill = waybill or f"{'VTP' if carrier == 'viettel_post' else 'GHN'}{100000 + n}"
    async with db.session() as session:
        order = Order(
            cooperative_id=cooperative_id, platform="tiktok_shop", shop_id="cod-shop",
            platform_order_id=f"TT-COD-{n}", status="delivered", payment_status="cod_pending",
            fulfilment_status="delivered", payment_method="cod", total_vnd=cod_vnd,
            buyer_name="Lò Thị Mai", buyer_phone="0912000111",
        )  # fmt: skip
        session.add(order)
        await session.flush()
        assert order.id is not None
        shipment = Shipment(
            order_id=order.id, cooperative_id=cooperative_id, carrier=carrier,
            reference=f"PHN-COD-{n}", waybill=waybill, cod_amount_vnd=cod_vnd, weight_g=1200,
            status=status, status_at=utcnow() - timedelta(days=delivered_days_ago),
        )  # fmt: skip
        session.add(shipment)
        await session.commit()
        assert shipment.id is not None
        return Parcel(order.id, shipment.id, waybill, cod_vnd)


def vtp_csv(rows: Sequence[Sequence[object]], *, delimiter: str = ";") -> bytes:
    """A Viettel Post statement as Excel saves Vietnamese CSV: BOM, title rows, semicolons."""
    lines = ["BẢNG KÊ ĐỐI SOÁT TIỀN THU HỘ", "Mã bảng kê: BK-2026-11-028", ""]
    lines.append(delimiter.join(VTP_HEADER))
    for i, row in enumerate(rows, start=1):
        lines.append(delimiter.join([str(i), *("" if v is None else str(v) for v in row)]))
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def xlsx(header: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    """A one-sheet workbook: the header, then the rows."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def upload(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    content: bytes,
    *,
    carrier: str = "viettel-post",
    name: str = "bang-ke.csv",
    media: str = "text/csv",
) -> httpx.Response:
    """POST /api/v1/cod-statements with the file and the carrier."""
    return await client.post(
        "/api/v1/cod-statements",
        headers=headers,
        files={"file": (name, content, media)},
        data={"carrier": carrier},
    )


async def snapshot(db: Database) -> dict[str, object]:
    """Everything an import may change: row counts and every order's payment state."""
    async with db.engine.connect() as conn:
        counts = {
            table: (await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar()  # noqa: S608
            for table in ("cod_statements", "cod_statement_lines", "order_events")
        }
        orders = (
            await conn.execute(
                text("SELECT id, payment_status, updated_at FROM orders ORDER BY id")
            )
        ).all()
        shipments = (
            await conn.execute(
                text("SELECT id, cod_collected_vnd, updated_at FROM shipments ORDER BY id")
            )
        ).all()
    return {
        **counts,
        "orders": [tuple(r) for r in orders],
        "shipments": [tuple(r) for r in shipments],
    }
