"""Arrange live sessions through the API and orders straight into the tables (ingestion is not ours)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlmodel import col

from api.catalogue.schemas import ProductCreate
from api.catalogue.service import create_product
from api.channels.models import ChannelConnection
from api.core.db import Database
from api.live_sessions.attribution import attribute_order, release_order_claims
from api.live_sessions.models import LiveOffer
from api.orders.models import Order, OrderLine, OrderStatus
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


async def place_order(
    db: Database,
    shop: Shop,
    placed_at: datetime,
    lines: list[Line],
    *,
    buyer_id: str = "",
    status: OrderStatus = OrderStatus.CONFIRMED,
) -> Placed:
    """Insert an order and its lines, attribute it in the same transaction, commit."""
    async with db.session() as session:
        order = Order(
            cooperative_id=shop.cooperative_id,
            channel_connection_id=shop.id,
            platform=shop.platform,
            shop_id=shop.shop_id,
            platform_order_id=f"PO-{next(_seq)}",
            placed_at=placed_at,
            status=status.value,
            buyer_id=buyer_id,
        )
        session.add(order)
        await session.flush()
        assert order.id is not None
        rows = [
            OrderLine(
                order_id=order.id,
                variant_id=line.variant_id,
                platform_sku_id=f"PSKU-{next(_seq)}",
                quantity=line.quantity,
                unit_price_vnd=line.unit_price_vnd,
                net_weight_g=line.net_weight_g,
            )
            for line in lines
        ]
        session.add_all(rows)
        await session.flush()
        await attribute_order(session, order, rows)
        await session.commit()
        return Placed(
            order.id, order.live_session_id, list(order.flags), [r.live_offer_id for r in rows]
        )


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
