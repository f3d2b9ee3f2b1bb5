"""Arrange live sessions through the API and orders straight into the tables (ingestion is not ours)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlmodel import col

from api.catalogue.models import Variant
from api.catalogue.schemas import ProductCreate
from api.catalogue.service import create_product
from api.channels.models import ChannelConnection
from api.core.db import Database
from api.live_sessions.attribution import release_order_claims
from api.live_sessions.models import LiveOffer
from api.orders.intake import Intake, take_in
from api.orders.models import Order, OrderLine, OrderStatus
from api.orders.status import PLATFORM_STATUSES
from integrations.platforms import PlatformAddress, PlatformOrder, PlatformOrderLine
from tests.factories import Member

_seq = itertools.count(1)


@dataclass(frozen=True)
class Shop:
    """A channel connection as the tests need it."""

    id: int
    cooperative_id: int
    platform: str
    shop_id: str


@dataclass(frozen=True)
class Line:
    """One order line to place."""

    variant_id: int | None
    quantity: int = 1
    unit_price_vnd: int = 150_000
    net_weight_g: int = 5000


@dataclass(frozen=True)
class Placed:
    """An order after attribution, as committed."""

    id: int
    live_session_id: int | None
    flags: list[str]
    offer_ids: list[int | None]


async def connect_shop(db: Database, cooperative_id: int, platform: str, shop_id: str) -> Shop:
    """A channel connection row (the channels package owns the real endpoints)."""
    async with db.session() as session:
        row = ChannelConnection(cooperative_id=cooperative_id, platform=platform, shop_id=shop_id)
        session.add(row)
        await session.commit()
        assert row.id is not None
        return Shop(row.id, cooperative_id, platform, shop_id)


async def new_variant(
    db: Database, cooperative_id: int, *, net_weight_g: int = 1000, price_vnd: int = 100_000
) -> tuple[int, str]:
    """Another active variant of a cooperative: (id, sku)."""
    sku = f"LIVE-{next(_seq)}"
    spec = ProductCreate.model_validate(
        {
            "cooperative_id": cooperative_id,
            "name": "Mật ong rừng",
            "category": "honey",
            "status": "active",
            "variants": [
                {
                    "sku": sku,
                    "unit_label": "hũ",
                    "net_weight_g": net_weight_g,
                    "shipping_weight_g": net_weight_g + 200,
                    "price_vnd": price_vnd,
                    "stock_on_hand": 1000,
                }
            ],
        }
    )
    async with db.session() as session:
        product = await create_product(session, None, spec)
        await session.commit()
    return product.variants[0].id, sku


async def schedule(
    client: httpx.AsyncClient, member: Member, shop: Shop, **extra: Any
) -> dict[str, Any]:
    """Schedule a session through the API and return its body."""
    body = {
        "cooperative_id": shop.cooperative_id,
        "channel_connection_id": shop.id,
        "title": "Phiên live gạo Séng Cù",
        "scheduled_start": "2026-12-01T12:00:00+07:00",
        **extra,
    }
    response = await client.post("/api/v1/live-sessions", json=body, headers=member.headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def add_offer(
    client: httpx.AsyncClient, member: Member, live_id: int, variant_id: int, **extra: Any
) -> dict[str, Any]:
    """Add an offer through the API and return its body."""
    body = {"variant_id": variant_id, "live_price_vnd": 150_000, **extra}
    response = await client.post(
        f"/api/v1/live-sessions/{live_id}/offers", json=body, headers=member.headers
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def move(
    client: httpx.AsyncClient, member: Member, live_id: int, action: str
) -> dict[str, Any]:
    """start / end / cancel through the API, expecting success."""
    response = await client.post(
        f"/api/v1/live-sessions/{live_id}/{action}", headers=member.headers
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _raw_status(platform: str, status: OrderStatus) -> str:
    return next(raw for raw, ours in PLATFORM_STATUSES[platform].items() if ours is status)


def platform_order(
    shop: Shop,
    placed_at: datetime,
    lines: list[Line],
    *,
    buyer_id: str = "",
    status: OrderStatus = OrderStatus.CONFIRMED,
) -> tuple[PlatformOrder, dict[str, int | None]]:
    """The platform's view of a new order, and its platform SKU ids -> our variant ids.

    The platform's clock counts whole seconds, as the real ones do.
    """
    skus = {f"PSKU-{next(_seq)}": line for line in lines}
    items = [
        PlatformOrderLine(
            platform_sku_id=sku, seller_sku="", product_name="Hàng live", sku_name="",
            quantity=line.quantity, unit_price=line.unit_price_vnd,
        )
        for sku, line in skus.items()
    ]  # fmt: skip
    po = PlatformOrder(
        platform=shop.platform, shop_id=shop.shop_id, order_id=f"PO-{next(_seq)}",
        status=_raw_status(shop.platform, status), update_time=int(placed_at.timestamp()),
        create_time=int(placed_at.timestamp()), is_cod=True, currency="VND",
        total_amount=sum(ln.quantity * ln.unit_price_vnd for ln in lines), shipping_fee=0,
        buyer_name="Khách live", buyer_phone="0912345678", buyer_id=buyer_id,
        address=PlatformAddress(full_address="Bản 1, Xã Bình Lư, Lai Châu", province="Lai Châu",
                                commune="Xã Bình Lư", street="Bản 1"),
        lines=tuple(items),
    )  # fmt: skip
    return po, {sku: line.variant_id for sku, line in skus.items()}


async def take_in_order(
    db: Database, shop: Shop, po: PlatformOrder, variant_ids: dict[str, int | None]
) -> Intake:
    """Run the real intake (stock, attribution, outbox) on one platform order and commit."""
    return await take_in_batch(db, shop, [(po, variant_ids)])


async def take_in_batch(
    db: Database, shop: Shop, orders: list[tuple[PlatformOrder, dict[str, int | None]]]
) -> Intake:
    """Run the real intake on several platform orders at once (as a drained inbox does)."""
    async with db.session() as session:
        connection = await session.get(ChannelConnection, shop.id)
        assert connection is not None
        variants = {
            sku: (await session.get(Variant, vid) if vid else None)
            for _, variant_ids in orders
            for sku, vid in variant_ids.items()
        }
        intake = await take_in(
            session, connection, [po for po, _ in orders], variants, source="test"
        )
        await session.commit()
        return intake


async def place_order(
    db: Database,
    shop: Shop,
    placed_at: datetime,
    lines: list[Line],
    *,
    buyer_id: str = "",
    status: OrderStatus = OrderStatus.CONFIRMED,
) -> Placed:
    """A first-seen order through the real intake, as committed."""
    po, variant_ids = platform_order(shop, placed_at, lines, buyer_id=buyer_id, status=status)
    (order,) = (await take_in_order(db, shop, po, variant_ids)).created
    assert order.id is not None
    async with db.session() as session:
        offer_ids = (
            await session.execute(
                select(col(OrderLine.live_offer_id))
                .where(col(OrderLine.order_id) == order.id)
                .order_by(col(OrderLine.id))
            )
        ).scalars()
        return Placed(order.id, order.live_session_id, list(order.flags), list(offer_ids))


async def cancel_order(db: Database, order_id: int) -> None:
    """Cancel an order the way ingestion will: status, then give back its claims."""
    async with db.session() as session:
        order = await session.get(Order, order_id)
        assert order is not None
        lines = list(
            (
                await session.execute(select(OrderLine).where(col(OrderLine.order_id) == order_id))
            ).scalars()
        )
        order.status = OrderStatus.CANCELLED.value
        await release_order_claims(session, order, lines)
        await session.commit()


async def units_claimed(db: Database, offer_id: int) -> int:
    """The offer's claimed units as committed."""
    async with db.session() as session:
        offer = await session.get(LiveOffer, offer_id)
        assert offer is not None
        return offer.units_claimed
