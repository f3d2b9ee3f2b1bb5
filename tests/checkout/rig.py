"""Helpers for the checkout tests: a buyer's body, the Stripe simulator's controls, the rows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlmodel import col

from api.catalogue.models import Variant
from api.checkout.models import Checkout
from api.core.db import Database
from api.live_sessions.models import LiveOffer, LiveSession
from api.orders.models import Order, OrderEvent
from api.shipments.models import Shipment
from api.webhooks.models import InboundEvent
from tests.checkout.conftest import Shop
from tests.factories import World
from tests.ingestion.rig import connect_tiktok_shop, run_worker

BUYER = {
    "name": "Nguyễn Thị Hoa",
    "phone": "+84 912 345 678",
    "province": "Thành phố Hà Nội",
    "ward": "Phường Ba Đình",
    "street": "12 Phan Đình Phùng",
}


def variant_id(world: World) -> int:
    """Coop A's variant (Gạo Séng Cù, túi 5 kg, 180,000 đ, 100 in stock)."""
    found = world.product_a.variants[0].id
    assert found is not None
    return found


def body(world: World, quantity: int = 2, **changes: Any) -> dict[str, Any]:
    """A checkout of coop A's variant, delivered in Hà Nội."""
    buyer = {**BUYER, **changes.pop("buyer", {})}
    return {
        "cooperative_id": world.coop_a,
        "lines": [{"variant_id": variant_id(world), "quantity": quantity}],
        "buyer": buyer,
        **changes,
    }


class StripeSim:
    """Drives the Stripe simulator through its /_sim controls."""

    def __init__(self, base: str) -> None:
        self.base = base

    async def call(self, method: str, path: str, payload: Any = None) -> Any:
        """One control call; anything but 2xx fails the test."""
        async with httpx.AsyncClient(timeout=10) as http:
            response = await http.request(method, f"{self.base}/_sim{path}", json=payload)
        assert response.is_success, response.text
        return response.json()

    async def pay(self, session_id: str, method: str = "card") -> None:
        """The buyer pays (a completed event is pushed)."""
        await self.call("POST", f"/checkout/sessions/{session_id}/pay", {"method": method})
        await self.drain()

    async def expire(self, session_id: str) -> None:
        """The session expires at Stripe (an expired event is pushed)."""
        await self.call("POST", f"/checkout/sessions/{session_id}/expire")
        await self.drain()

    async def late_payment(self, session_id: str, order: str = "expired_first") -> None:
        """The session expires and is paid anyway, events in the order given."""
        await self.call("POST", f"/checkout/sessions/{session_id}/late_payment", {"order": order})
        await self.drain()

    async def hold_events(self) -> None:
        """Keep events for `deliver` instead of pushing them as they happen."""
        await self.call("PATCH", "/config", {"auto_deliver": False})

    async def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Events the simulator made, with their deliveries."""
        found: list[dict[str, Any]] = await self.call(
            "GET", "/events" + (f"?type={kind}" if kind else "")
        )
        return found

    async def deliver(self, event_ids: list[str], **options: Any) -> None:
        """Push these events (in this order), `copies` times, maybe stale or forged."""
        await self.call("POST", "/events/deliver", {"event_ids": event_ids, **options})
        await self.drain()

    async def drain(self) -> None:
        """Wait until every push has had its answer."""
        await self.call("POST", "/drain")

    async def refunds(self) -> int:
        """How many refunds Stripe holds."""
        stats = await self.call("GET", "/stats")
        return int(stats["refunds"])

    async def session(self, session_id: str) -> dict[str, Any]:
        """The session as the simulator holds it."""
        sessions = await self.call("GET", "/checkout/sessions")
        return next(s for s in sessions if s["id"] == session_id)


async def start(shop: Shop, payload: dict[str, Any]) -> httpx.Response:
    """POST /api/v1/checkout as a buyer (no token)."""
    async with httpx.AsyncClient(base_url=shop.api_base, timeout=10) as http:
        return await http.post("/api/v1/checkout", json=payload)


async def checkout_row(db: Database, reference: str) -> tuple[Checkout, Order]:
    """The checkout and order of a reference."""
    async with db.session() as session:
        order = (
            await session.execute(select(Order).where(col(Order.platform_order_id) == reference))
        ).scalar_one()
        checkout = (
            await session.execute(select(Checkout).where(col(Checkout.order_id) == order.id))
        ).scalar_one()
    return checkout, order


async def opened(shop: Shop, db: Database, world: World, quantity: int = 2) -> tuple[str, str]:
    """A checkout started through the API: (order reference, Stripe session id)."""
    response = await start(shop, body(world, quantity))
    assert response.status_code == 201, response.text
    reference = response.json()["order_reference"]
    checkout, _ = await checkout_row(db, reference)
    assert checkout.stripe_session_id is not None
    return reference, checkout.stripe_session_id


async def levels(db: Database, world: World) -> tuple[int, int]:
    """(on hand, reserved) of coop A's variant."""
    async with db.session() as session:
        variant = await session.get(Variant, variant_id(world))
    assert variant is not None
    return variant.stock_on_hand, variant.stock_reserved


async def kinds(db: Database, order_id: int | None) -> list[str]:
    """The order's audit trail, oldest first."""
    async with db.session() as session:
        rows = await session.execute(
            select(col(OrderEvent.kind))
            .where(col(OrderEvent.order_id) == order_id)
            .order_by(col(OrderEvent.id))
        )
    return list(rows.scalars())


async def stripe_rows(db: Database) -> list[InboundEvent]:
    """The inbox's Stripe rows, oldest first."""
    async with db.session() as session:
        rows = await session.execute(
            select(InboundEvent)
            .where(col(InboundEvent.source) == "stripe")
            .order_by(col(InboundEvent.id))
        )
    return list(rows.scalars())


async def shipments(db: Database, order_id: int | None) -> list[Shipment]:
    """The order's shipments."""
    async with db.session() as session:
        rows = await session.execute(select(Shipment).where(col(Shipment.order_id) == order_id))
    return list(rows.scalars())


async def work(shop: Shop) -> None:
    """Run a burst worker (with the Stripe account) until the queue is empty, twice: jobs that
    the first run enqueued (the hand-off after a payment, a refund) run in the second."""
    await run_worker(shop.settings)
    await run_worker(shop.settings)


async def live_session(db: Database, world: World, *, cap: int, per_buyer: int) -> int:
    """A live session of coop A on air, offering its variant at 150,000 đ."""
    connection_id = await connect_tiktok_shop(db, world.coop_a)
    async with db.session() as session:
        live = LiveSession(
            cooperative_id=world.coop_a, channel_connection_id=connection_id,
            platform="tiktok_shop", shop_id="x", title="Phiên gạo mới",
            scheduled_start=datetime.now(UTC), actual_start=datetime.now(UTC), status="live",
        )  # fmt: skip
        session.add(live)
        await session.flush()
        assert live.id is not None
        session.add(
            LiveOffer(
                live_session_id=live.id,
                variant_id=variant_id(world),
                live_price_vnd=150_000,
                quantity_cap=cap,
                per_buyer_limit=per_buyer,
            )
        )
        await session.commit()
        return live.id
