"""Stripe's events through the inbox: duplicates, out of order, expiry, the expired-then-paid race."""

from __future__ import annotations

import time

import httpx
import redis.asyncio as aioredis
from sqlalchemy import select, update
from sqlmodel import col

from api.catalogue.models import Variant
from api.checkout.models import Checkout
from api.core.db import Database
from api.core.jobs import Job
from api.core.queue import JobQueue, PendingJob
from api.live_sessions.models import LiveOffer
from integrations.payments.stripe_client import StripePayments
from integrations.payments.types import CheckoutLine
from tests.checkout.conftest import Shop
from tests.checkout.rig import (
    StripeSim,
    body,
    checkout_row,
    kinds,
    levels,
    live_session,
    opened,
    shipments,
    start,
    stripe_rows,
    variant_id,
    work,
)
from tests.factories import World


async def _ids(sim: StripeSim, kind: str) -> list[str]:
    return [e["id"] for e in await sim.events(kind)]


async def _paid_late(sim: StripeSim, session_id: str, order: str) -> tuple[str, str]:
    """The session expires and is paid anyway, its events held: their ids (completed, expired)."""
    await sim.hold_events()
    await sim.late_payment(session_id, order=order)
    [completed] = await _ids(sim, "checkout.session.completed")
    [expired] = await _ids(sim, "checkout.session.expired")
    return completed, expired


async def test_a_completed_event_delivered_three_times_is_applied_once(
    shop: Shop, db: Database, world: World
) -> None:
    sim = StripeSim(shop.stripe)
    reference, session_id = await opened(shop, db, world)
    await sim.hold_events()
    await sim.pay(session_id)
    [completed] = await _ids(sim, "checkout.session.completed")

    await sim.deliver([completed], copies=3)
    await work(shop)

    assert [row.event_key for row in await stripe_rows(db)] == [completed]
    _, order = await checkout_row(db, reference)
    assert (order.status, order.payment_status) == ("confirmed", "paid")
    assert (await kinds(db, order.id)).count("paid") == 1
    assert len(await shipments(db, order.id)) == 1
    assert await levels(db, world) == (100, 2)


async def test_an_expired_session_gives_the_stock_back_and_cancels_the_order(
    shop: Shop, db: Database, world: World
) -> None:
    reference, session_id = await opened(shop, db, world, quantity=3)
    assert await levels(db, world) == (100, 3)

    await StripeSim(shop.stripe).expire(session_id)
    await work(shop)

    checkout, order = await checkout_row(db, reference)
    assert await levels(db, world) == (100, 0)
    assert (order.status, order.payment_status, order.fulfilment_status) == (
        "cancelled", "voided", "cancelled",
    )  # fmt: skip
    assert checkout.status == "expired"
    assert checkout.released_at is not None
    assert [row.outcome for row in await stripe_rows(db)] == ["released"]


async def test_an_expired_event_after_the_payment_is_recorded_and_ignored(
    shop: Shop, db: Database, world: World
) -> None:
    sim = StripeSim(shop.stripe)
    reference, session_id = await opened(shop, db, world)
    completed, expired = await _paid_late(sim, session_id, "completed_first")

    await sim.deliver([completed])
    await work(shop)
    await sim.deliver([expired])
    await work(shop)

    _, order = await checkout_row(db, reference)
    assert (order.status, order.payment_status) == ("confirmed", "paid")
    assert await levels(db, world) == (100, 2)
    assert [row.outcome for row in await stripe_rows(db)] == [
        "paid", "expired_after_paid_ignored",
    ]  # fmt: skip
    assert "stale_event_ignored" in await kinds(db, order.id)


async def test_paid_after_expiry_with_stock_left_is_reserved_again_and_confirmed(
    shop: Shop, db: Database, world: World, viettel_post_sim: str
) -> None:
    sim = StripeSim(shop.stripe)
    reference, session_id = await opened(shop, db, world)
    completed, expired = await _paid_late(sim, session_id, "expired_first")

    await sim.deliver([expired])
    await work(shop)
    assert await levels(db, world) == (100, 0)
    await sim.deliver([completed])
    await work(shop)

    checkout, order = await checkout_row(db, reference)
    assert (order.status, order.payment_status) == ("confirmed", "paid")
    assert checkout.released_at is None
    assert await levels(db, world) == (100, 2)
    [shipment] = await shipments(db, order.id)
    assert shipment.status == "handed_off"
    assert [row.outcome for row in await stripe_rows(db)] == [
        "released", "paid_after_expiry_reserved",
    ]  # fmt: skip
    assert await sim.refunds() == 0


async def test_paid_after_expiry_with_the_stock_gone_is_refunded_once_and_flagged(
    shop: Shop, db: Database, world: World
) -> None:
    sim = StripeSim(shop.stripe)
    reference, session_id = await opened(shop, db, world)
    completed, expired = await _paid_late(sim, session_id, "expired_first")
    await sim.deliver([expired])
    await work(shop)
    async with db.session() as session:  # the rest sold elsewhere meanwhile
        await session.execute(
            update(Variant).where(col(Variant.id) == variant_id(world)).values(stock_on_hand=1)
        )
        await session.commit()

    await sim.deliver([completed], copies=2)
    await work(shop)
    await sim.deliver([completed])  # a late retry of the same event: the inbox has it
    await work(shop)

    checkout, order = await checkout_row(db, reference)
    assert await sim.refunds() == 1
    assert (order.status, order.payment_status) == ("cancelled", "refunded")
    assert "paid_after_expiry" in order.flags
    assert (checkout.refund_status, checkout.refund_id is not None) == ("succeeded", True)
    assert await levels(db, world) == (1, 0)
    assert await shipments(db, order.id) == []
    trail = await kinds(db, order.id)
    assert trail.count("refund_requested") == 1
    assert trail.count("refunded") == 1
    # The cooperative finds it in its order list, with the reason.
    async with httpx.AsyncClient(base_url=shop.api_base, timeout=10) as http:
        listed = await http.get(
            "/api/v1/orders",
            params={"flag": "paid_after_expiry"},
            headers=world.users["coop_admin"].headers,
        )
    [item] = listed.json()["items"]
    assert item["platform_order_id"] == reference


async def test_the_sweeper_releases_a_reservation_whose_expired_event_was_lost(
    shop: Shop, db: Database, world: World, redis_url: str
) -> None:
    sim = StripeSim(shop.stripe)
    reference, session_id = await opened(shop, db, world)
    await sim.hold_events()  # Stripe's expired event never reaches us
    async with db.session() as session:
        await session.execute(
            update(Checkout)
            .where(col(Checkout.stripe_session_id) == session_id)
            .values(reserved_until=Checkout.created_at)
        )
        await session.commit()

    redis = aioredis.Redis.from_url(redis_url)
    await JobQueue(redis).send([PendingJob(Job.SWEEP_CHECKOUTS, ())])
    await redis.aclose()
    await work(shop)

    checkout, order = await checkout_row(db, reference)
    assert await levels(db, world) == (100, 0)
    assert (order.status, checkout.status) == ("cancelled", "expired")
    assert (await sim.session(session_id))["status"] == "expired"  # it cannot be paid now


async def test_an_event_for_a_session_that_is_not_ours_is_parked_with_its_reason(
    shop: Shop, db: Database
) -> None:
    sim = StripeSim(shop.stripe)
    payments = StripePayments(api_key=shop.settings.stripe_api_key.get_secret_value(),
                              api_base=shop.stripe)  # fmt: skip
    try:
        foreign = await payments.create_checkout_session(
            lines=[CheckoutLine("Trà shan tuyết", 250_000, 1)],
            client_reference_id="somebody-else",
            success_url="http://127.0.0.1/ok",
            cancel_url="http://127.0.0.1/no",
            expires_at=int(time.time()) + 3600,
            metadata={},
            idempotency_key="foreign-1",
        )
    finally:
        await payments.aclose()

    await sim.pay(foreign.id)
    await work(shop)

    [row] = await stripe_rows(db)
    assert row.parked_at is not None
    assert row.last_error is not None
    assert foreign.id in row.last_error


async def test_a_bank_transfer_holds_the_stock_until_it_settles(
    shop: Shop, db: Database, world: World
) -> None:
    sim = StripeSim(shop.stripe)
    reference, session_id = await opened(shop, db, world)
    await sim.pay(session_id, method="bank_transfer")
    await work(shop)
    checkout, order = await checkout_row(db, reference)
    assert (order.status, checkout.status) == ("pending_payment", "complete")
    assert await levels(db, world) == (100, 2)  # not released by the sweeper meanwhile

    await sim.call("POST", f"/checkout/sessions/{session_id}/settle?succeeded=true")
    await sim.drain()
    await work(shop)

    _, order = await checkout_row(db, reference)
    assert (order.status, order.payment_status) == ("confirmed", "paid")
    assert [row.outcome for row in await stripe_rows(db)] == ["awaiting_payment", "paid"]


async def test_a_bank_transfer_that_fails_gives_the_stock_back(
    shop: Shop, db: Database, world: World
) -> None:
    sim = StripeSim(shop.stripe)
    reference, session_id = await opened(shop, db, world)
    await sim.pay(session_id, method="bank_transfer")
    await sim.call("POST", f"/checkout/sessions/{session_id}/settle?succeeded=false")
    await sim.drain()
    await work(shop)

    _, order = await checkout_row(db, reference)
    assert (order.status, order.payment_status) == ("cancelled", "voided")
    assert await levels(db, world) == (100, 0)


async def test_a_live_order_paid_after_expiry_claims_its_offer_units_again(
    shop: Shop, db: Database, world: World
) -> None:
    sim = StripeSim(shop.stripe)
    live_id = await live_session(db, world, cap=3, per_buyer=2)
    response = await start(shop, body(world, quantity=2, live_session_id=live_id))
    reference = response.json()["order_reference"]
    checkout, _ = await checkout_row(db, reference)
    assert checkout.stripe_session_id is not None
    completed, expired = await _paid_late(sim, checkout.stripe_session_id, "expired_first")
    await sim.deliver([expired])
    await work(shop)
    assert await _claimed(db) == 0

    await sim.deliver([completed])
    await work(shop)

    _, order = await checkout_row(db, reference)
    assert (order.status, order.live_session_id) == ("confirmed", live_id)
    assert await _claimed(db) == 2
    assert await levels(db, world) == (100, 2)


async def _claimed(db: Database) -> int:
    async with db.session() as session:
        offer = (await session.execute(select(LiveOffer))).scalar_one()
    return offer.units_claimed
