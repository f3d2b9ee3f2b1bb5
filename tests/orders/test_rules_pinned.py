"""The rules that guard money, stock and tenants, pinned through the real code paths.

Issue 9 item 16: an outside check broke each of these by hand and the suite stayed green on
95bffa4. Each test here fails when its rule is broken (tried by hand, then reverted).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlmodel import col

from api.catalogue.models import Variant
from api.channels.models import ChannelConnection
from api.core.db import Database
from api.orders.models import Order, OrderEvent
from api.orders.updates import apply_platform_order
from api.shipments.handoff import claim_for_booking, record_booking
from api.shipments.models import Shipment
from integrations.carriers.base import Booking
from integrations.platforms import PlatformOrder
from tests.api.live_sessions.conftest import Shops
from tests.api.live_sessions.helpers import Line, platform_order, take_in_batch
from tests.factories import World
from tests.shipments.rig import outbox_row, stored_order

NOON = datetime(2026, 11, 4, 12, 0, tzinfo=UTC)


async def _apply(
    db: Database, shops: Shops, po: PlatformOrder, skus: dict[str, int | None]
) -> None:
    async with db.session() as session:
        connection = await session.get(ChannelConnection, shops.tiktok_a.id)
        assert connection is not None
        variants = {sku: await session.get(Variant, v) if v else None for sku, v in skus.items()}
        await apply_platform_order(session, connection, po, source="test", variants=variants)
        await session.commit()


async def _order(db: Database, po: PlatformOrder) -> Order:
    async with db.session() as session:
        found = await session.execute(
            select(Order).where(col(Order.platform_order_id) == po.order_id)
        )
        return found.scalar_one()


async def _kinds(db: Database, order_id: int) -> list[str]:
    async with db.session() as session:
        rows = await session.execute(
            select(col(OrderEvent.kind)).where(col(OrderEvent.order_id) == order_id)
        )
        return list(rows.scalars())


def _again(po: PlatformOrder, status: str, update_time: int) -> PlatformOrder:
    return replace(po, status=status, update_time=update_time)


async def test_an_older_platform_update_never_overwrites_a_newer_one(
    db: Database, world: World, shops: Shops
) -> None:
    po, skus = platform_order(shops.tiktok_a, NOON, [Line(world.product_a.variants[0].id, 1)])
    await _apply(db, shops, _again(po, "AWAITING_SHIPMENT", 2000), skus)
    # An older CANCEL: the one move "forward only" allows from anywhere, so only the
    # update-time guard keeps it out.
    await _apply(db, shops, _again(po, "CANCELLED", 1000), skus)
    order = await _order(db, po)
    assert (order.status, order.platform_status) == ("confirmed", "AWAITING_SHIPMENT")
    assert order.platform_update_time == 2000
    assert order.fulfilment_status != "cancelled"
    assert order.id is not None
    assert "stale_update_ignored" in await _kinds(db, order.id)


async def test_an_order_status_never_moves_backwards_through_the_updates(
    db: Database, world: World, shops: Shops
) -> None:
    po, skus = platform_order(shops.tiktok_a, NOON, [Line(world.product_a.variants[0].id, 1)])
    await _apply(db, shops, _again(po, "DELIVERED", 2000), skus)
    await _apply(db, shops, _again(po, "AWAITING_SHIPMENT", 3000), skus)  # newer, yet backwards
    order = await _order(db, po)
    assert order.status == "delivered"
    assert order.id is not None
    assert "transition_refused" in await _kinds(db, order.id)


async def test_two_lines_of_one_variant_over_the_stock_backorder_the_order(
    db: Database, world: World, shops: Shops
) -> None:
    variant = world.product_a.variants[0].id
    async with db.session() as session:
        await session.execute(
            update(Variant).where(col(Variant.id) == variant).values(stock_on_hand=5)
        )
        await session.commit()
    # Two platform SKUs mapped to one variant: 4 + 4 > 5, though each line fits alone.
    greedy = platform_order(shops.tiktok_a, NOON, [Line(variant, 4), Line(variant, 4)])
    modest = platform_order(shops.tiktok_a, NOON, [Line(variant, 5)])
    intake = await take_in_batch(db, shops.tiktok_a, [greedy, modest])
    assert len(intake.created) == 2
    backordered, served = await _order(db, greedy[0]), await _order(db, modest[0])
    assert (backordered.fulfilment_status, backordered.flags) == ("backordered", ["backordered"])
    assert served.fulfilment_status in ("reserved", "pending_shipment")
    async with db.session() as session:
        level = await session.get(Variant, variant)
        assert level is not None
        assert (level.stock_on_hand, level.stock_reserved) == (5, 5)


async def test_a_booking_that_lands_after_the_cancel_keeps_the_order_cancelled(
    db: Database, world: World
) -> None:
    order_id = await stored_order(db, world, world.coop_a)
    shipment_id = await outbox_row(db, order_id)
    # The hand-off took the row and is waiting on the carrier; the platform cancels meanwhile.
    async with db.session() as session:
        claimed = await claim_for_booking(
            session, [shipment_id], job_id=None, lease_s=60, max_attempts=40,
            missing_config=lambda _carrier: None,
        )  # fmt: skip
        await session.commit()
    [claim] = claimed.claims
    async with db.session() as session:
        await session.execute(
            update(Order)
            .where(col(Order.id) == order_id)
            .values(status="cancelled", fulfilment_status="cancelled")
        )
        await session.commit()
    async with db.session() as session:
        booking = Booking(claim.carrier, claim.reference, "VTP-LATE-1", 22_000)
        await record_booking(session, claim, booking, adopted=False, service=None)
        await session.commit()
    async with db.session() as session:
        stored = await session.get(Order, order_id)
        booked = await session.get(Shipment, shipment_id)
        assert stored is not None
        assert booked is not None
        assert stored.fulfilment_status == "cancelled"
        # The waybill is kept: a person (or the cancel job) must drop the parcel at the carrier.
        assert booked.waybill == "VTP-LATE-1"
