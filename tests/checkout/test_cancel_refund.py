"""A cooperative cancels a direct order: stock back, and a paid one refunded once."""

from __future__ import annotations

import asyncio

import httpx

from api.accounts.models import Role
from api.checkout.models import Checkout
from api.core.db import Database
from api.orders.models import Order
from integrations.payments.stripe_client import StripePayments
from tests.checkout.conftest import Shop
from tests.checkout.rig import (
    StripeSim,
    checkout_row,
    kinds,
    levels,
    opened,
    shipments,
    stripe_rows,
    work,
)
from tests.factories import World, add_member
from tests.shipments.rig import set_shipment, stored_order


async def _cancel(shop: Shop, headers: dict[str, str], order_id: int | None) -> httpx.Response:
    async with httpx.AsyncClient(base_url=shop.api_base, timeout=10) as http:
        return await http.post(f"/api/v1/orders/{order_id}/cancel", headers=headers)


async def _paid(shop: Shop, db: Database, world: World) -> tuple[str, Checkout, Order]:
    """A direct order paid at Stripe and confirmed: its reference, checkout and order."""
    reference, session_id = await opened(shop, db, world)
    await StripeSim(shop.stripe).pay(session_id)
    await work(shop)
    checkout, order = await checkout_row(db, reference)
    return reference, checkout, order


async def test_cancelling_a_paid_order_twice_refunds_it_once(
    shop: Shop, db: Database, world: World
) -> None:
    sim = StripeSim(shop.stripe)
    reference, _, order = await _paid(shop, db, world)
    assert order.status == "confirmed"
    coop_admin = world.users["coop_admin"].headers

    first, second = await asyncio.gather(
        _cancel(shop, coop_admin, order.id), _cancel(shop, coop_admin, order.id)
    )
    again = await _cancel(shop, coop_admin, order.id)
    await work(shop)

    assert [first.status_code, second.status_code, again.status_code] == [200, 200, 200]
    assert first.json()["status"] == "cancelled"
    assert await sim.refunds() == 1
    checkout, order = await checkout_row(db, reference)
    assert (order.status, order.payment_status) == ("cancelled", "refunded")
    assert checkout.refund_status == "succeeded"
    assert await levels(db, world) == (100, 0)  # the parcel was cancelled at the carrier
    trail = await kinds(db, order.id)
    assert trail.count("refund_requested") == 1
    # Booked at the carrier: the refund waited for the carrier to drop the parcel.
    assert trail.index("shipment_cancelled") < trail.index("refund_requested")
    await StripeSim(shop.stripe).drain()
    await work(shop)
    outcomes = {row.topic: row.outcome for row in await stripe_rows(db)}
    # Stripe's own word on the refund finds it booked already (whichever came first).
    assert outcomes["refund.created"] in ("already_refunded", "succeeded")
    assert outcomes["charge.refunded"] == "ignored"


async def test_cancelling_an_unpaid_order_releases_it_and_expires_its_session(
    shop: Shop, db: Database, world: World
) -> None:
    sim = StripeSim(shop.stripe)
    reference, session_id = await opened(shop, db, world)
    _, order = await checkout_row(db, reference)

    response = await _cancel(shop, world.users["seller"].headers, order.id)
    await work(shop)

    assert response.status_code == 200
    assert await levels(db, world) == (100, 0)
    assert (await sim.session(session_id))["status"] == "expired"
    assert await sim.refunds() == 0


async def test_other_cooperatives_and_programme_managers_cannot_cancel(
    shop: Shop, db: Database, world: World
) -> None:
    reference, _ = await opened(shop, db, world)
    _, order = await checkout_row(db, reference)
    manager = world.users["program_manager"].headers
    other_coop = (await add_member(db, Role.COOP_ADMIN, world.coop_b)).headers

    assert (await _cancel(shop, manager, order.id)).status_code == 403
    assert (await _cancel(shop, other_coop, order.id)).status_code == 404
    assert (await _cancel(shop, {}, order.id)).status_code == 401
    assert await levels(db, world) == (100, 2)


async def test_a_parcel_the_courier_has_cannot_be_cancelled_and_is_not_refunded(
    shop: Shop, db: Database, world: World
) -> None:
    sim = StripeSim(shop.stripe)
    reference, _, order = await _paid(shop, db, world)
    [shipment] = await shipments(db, order.id)
    assert shipment.id is not None
    await set_shipment(db, shipment.id, status="picked_up")

    response = await _cancel(shop, world.users["coop_admin"].headers, order.id)
    await work(shop)

    assert response.status_code == 409
    assert "carrier already has the parcel" in response.json()["detail"]
    _, order = await checkout_row(db, reference)
    assert (order.status, order.payment_status) == ("confirmed", "paid")
    assert await sim.refunds() == 0


async def test_a_platform_order_is_cancelled_on_its_platform_not_here(
    shop: Shop, db: Database, world: World
) -> None:
    order_id = await stored_order(db, world, world.coop_a)

    response = await _cancel(shop, world.users["coop_admin"].headers, order_id)

    assert response.status_code == 409


async def test_a_payment_arriving_after_the_cooperative_cancelled_is_refunded_not_revived(
    shop: Shop, db: Database, world: World
) -> None:
    sim = StripeSim(shop.stripe)
    reference, session_id = await opened(shop, db, world)
    _, order = await checkout_row(db, reference)
    await sim.hold_events()
    await sim.pay(session_id)  # the buyer pays; Stripe's event is still on its way

    response = await _cancel(shop, world.users["seller"].headers, order.id)
    assert response.status_code == 200
    completed = [e["id"] for e in await sim.events("checkout.session.completed")]
    await sim.deliver(completed)
    await work(shop)

    checkout, order = await checkout_row(db, reference)
    assert order.status == "cancelled"  # the cooperative said no: it stays no
    assert checkout.refund_status in ("succeeded", "pending")
    assert await sim.refunds() == 1
    assert await levels(db, world) == (100, 0)
    assert await shipments(db, order.id) == []


async def test_a_refund_made_in_stripes_dashboard_is_not_booked_as_ours(
    shop: Shop, db: Database, world: World
) -> None:
    sim = StripeSim(shop.stripe)
    reference, checkout, order = await _paid(shop, db, world)
    assert checkout.payment_intent is not None
    payments = StripePayments(api_key=shop.settings.stripe_api_key.get_secret_value(),
                              api_base=shop.stripe)  # fmt: skip
    try:  # someone refunds 10,000 đ of it by hand (a goodwill gesture)
        await payments.create_refund(
            payment_intent=checkout.payment_intent, amount_vnd=10_000,
            reason="requested_by_customer", idempotency_key="by-hand-1",
        )  # fmt: skip
    finally:
        await payments.aclose()
    await sim.drain()
    await work(shop)

    checkout, order = await checkout_row(db, reference)
    assert (order.status, order.payment_status) == ("confirmed", "paid")
    assert (checkout.refund_status, checkout.refund_id) == ("none", None)
    # Cancelled later, the order is still refunded (what is left of it), once.
    response = await _cancel(shop, world.users["coop_admin"].headers, order.id)
    assert response.status_code == 200
    await work(shop)
    assert (await kinds(db, order.id)).count("refund_requested") == 1
