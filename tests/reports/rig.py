"""Orders for the report tests, moved by the real domain functions (intake, updates, tracking)."""

from __future__ import annotations

import dataclasses
import itertools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, text
from sqlmodel import col

from api.catalogue.schemas import ProductCreate
from api.catalogue.service import create_product
from api.channels.models import ChannelConnection
from api.core.db import Database
from api.orders.models import OrderStatus
from api.orders.updates import apply_platform_order
from api.reports.compaction import fold_deltas
from api.shipments.models import Shipment
from api.shipments.tracking import apply_tracking
from integrations.carriers.base import ShipmentStatus, TrackingUpdate
from integrations.platforms import PlatformOrder
from tests.api.live_sessions.helpers import Line, Shop, platform_order, take_in_order

VN = ZoneInfo("Asia/Ho_Chi_Minh")
_seq = itertools.count(1)
MEASURES = (
    "sold_orders", "sold_units", "sold_grams", "sold_gmv_vnd",
    "delivered_orders", "delivered_units", "delivered_grams", "delivered_gmv_vnd",
)  # fmt: skip


def vn(day: date, hour: int, minute: int = 0) -> datetime:
    """A local Vietnamese time as aware UTC."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=VN).astimezone(UTC)


@dataclass(frozen=True)
class Item:
    """A variant on sale: its id, product, category and net weight."""

    variant_id: int
    product_id: int
    category: str
    net_weight_g: int
    price_vnd: int


async def item(
    db: Database, cooperative_id: int, name: str, category: str, grams: int, price: int
) -> Item:
    """A product with one variant and plenty of stock, through the catalogue service."""
    spec = ProductCreate.model_validate(
        {
            "cooperative_id": cooperative_id, "name": name, "category": category,
            "status": "active",
            "variants": [{
                "sku": f"RPT-{next(_seq)}", "unit_label": "gói", "net_weight_g": grams,
                "shipping_weight_g": grams + 100, "price_vnd": price, "stock_on_hand": 100_000,
            }],
        }
    )  # fmt: skip
    async with db.session() as session:
        product = await create_product(session, None, spec)
        await session.commit()
    return Item(product.variants[0].id, product.id, category, grams, price)


@dataclass
class Placed:
    """An order we placed, with the platform view we keep moving."""

    id: int
    shop: Shop
    po: PlatformOrder


async def place(db: Database, shop: Shop, when: datetime, lines: list[tuple[Item, int]]) -> Placed:
    """A confirmed order through the real intake."""
    spec = [Line(it.variant_id, qty, it.price_vnd, it.net_weight_g) for it, qty in lines]
    po, variant_ids = platform_order(shop, when, spec)
    (order,) = (await take_in_order(db, shop, po, variant_ids)).created
    assert order.id is not None
    return Placed(order.id, shop, po)


_RAW = {
    ("tiktok_shop", OrderStatus.CANCELLED): "CANCELLED",
    ("tiktok_shop", OrderStatus.DELIVERED): "DELIVERED",
    ("shopee", OrderStatus.CANCELLED): "CANCELLED",
    ("shopee", OrderStatus.DELIVERED): "TO_CONFIRM_RECEIVE",
}


async def platform_says(db: Database, placed: Placed, status: OrderStatus) -> None:
    """The platform reports a new status; the real update path applies it."""
    placed.po = dataclasses.replace(
        placed.po,
        status=_RAW[(placed.shop.platform, status)],
        update_time=placed.po.update_time + 1,
    )
    async with db.session() as session:
        connection = await session.get(ChannelConnection, placed.shop.id)
        assert connection is not None
        await apply_platform_order(session, connection, placed.po, source="test")
        await session.commit()


async def carrier_says(db: Database, order_id: int, status: ShipmentStatus) -> bool:
    """The carrier reports a parcel status through the real tracking path; False: no parcel."""
    async with db.session() as session:
        shipment = (
            await session.execute(select(Shipment).where(col(Shipment.order_id) == order_id))
        ).scalar_one_or_none()
        if shipment is None:
            return False
        n = next(_seq)
        update = TrackingUpdate(
            carrier=shipment.carrier, waybill=shipment.waybill or f"WB{order_id:08d}",
            reference=shipment.reference, raw_status=status.value, status=status, reason=None,
            occurred_at=datetime.now(UTC) + timedelta(seconds=n), cod_amount_vnd=None,
            weight_grams=None, event_key=f"rpt-{order_id}-{n}",
        )  # fmt: skip
        await apply_tracking(session, shipment, update)
        await session.commit()
    return True


async def compact(db: Database) -> None:
    """What the compact_tonnage job does, once."""
    async with db.session() as session:
        while await fold_deltas(session, batch=1000):
            pass
        await session.commit()


Key = tuple[Any, ...]


PERIODS = {"day": "tonnage_facts", "week": "tonnage_week_facts", "month": "tonnage_month_facts"}


def _start(day: date, period: str) -> date:
    if period == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1) if period == "month" else day


async def read_model(db: Database, grain: int, period: str = "day") -> dict[Key, tuple[int, ...]]:
    """Daily, weekly or monthly facts plus pending deltas per key, zero keys left out."""
    out: dict[Key, tuple[int, ...]] = {}
    facts = PERIODS[period]
    async with db.session() as session:
        for table in (facts, "tonnage_deltas"):
            rows = await session.execute(
                text(
                    "SELECT day, cooperative_id, platform, live_session_id, category, product_id, "  # noqa: S608 - table names are ours
                    + ", ".join(MEASURES)
                    + f" FROM {table} WHERE grain = :g"
                ),
                {"g": grain},
            )
            for row in rows:
                key, values = tuple(row[:6]), tuple(int(v) for v in row[6:])
                key = (_start(key[0], period), *key[1:])
                old = out.get(key, (0,) * 8)
                out[key] = tuple(a + b for a, b in zip(old, values, strict=True))
    return {k: v for k, v in out.items() if any(v)}


async def recomputed(db: Database, grain: int, period: str = "day") -> dict[Key, tuple[int, ...]]:
    """The same, counted in Python from the raw orders and lines (the definitions, restated)."""
    async with db.session() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT o.id, o.placed_at, o.cooperative_id, o.platform, o.live_session_id,"
                    " o.status, o.fulfilment_status, v.product_id, p.category, l.quantity,"
                    " l.net_weight_g, l.unit_price_vnd FROM orders o"
                    " JOIN order_lines l ON l.order_id = o.id"
                    " LEFT JOIN variants v ON v.id = l.variant_id"
                    " LEFT JOIN products p ON p.id = v.product_id"
                )
            )
        ).all()
    return _count(rows, grain, period)


def _count(rows: Iterable[Any], grain: int, period: str) -> dict[Key, tuple[int, ...]]:
    sums: dict[Key, list[int]] = defaultdict(lambda: [0] * 8)
    orders: dict[Key, set[tuple[int, bool, bool]]] = defaultdict(set)
    for r in rows:
        sold = r.status != "cancelled" and r.fulfilment_status not in ("returned", "cancelled")
        delivered = sold and (
            r.fulfilment_status == "delivered" or r.status in ("delivered", "completed")
        )
        day = _start(r.placed_at.astimezone(VN).date(), period)
        category = r.category or "" if grain >= 1 else ""
        product = (r.product_id or 0) if grain == 2 else 0
        key = (day, r.cooperative_id, r.platform, r.live_session_id or 0, category, product)
        for offset, counted in ((0, sold), (4, delivered)):
            if counted:
                sums[key][offset + 1] += r.quantity
                sums[key][offset + 2] += r.quantity * r.net_weight_g
                sums[key][offset + 3] += r.quantity * r.unit_price_vnd
        orders[key].add((r.id, sold, delivered))
    for key, seen in orders.items():
        sums[key][0] = sum(1 for _, sold, _ in seen if sold)
        sums[key][4] = sum(1 for _, _, delivered in seen if delivered)
    return {k: tuple(v) for k, v in sums.items() if any(v)}
