"""The whole direct sale over HTTP: checkout, Stripe simulator, signed webhook, worker, carrier."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api.core.db import Database
from tests.checkout.conftest import Shop
from tests.checkout.rig import (
    StripeSim,
    body,
    checkout_row,
    kinds,
    levels,
    shipments,
    start,
    stripe_rows,
    work,
)
from tests.factories import World
from tests.shipments.rig import CarrierSim


async def test_a_paid_checkout_confirms_the_order_and_books_the_parcel(
    shop: Shop, db: Database, world: World, viettel_post_sim: str
) -> None:
    response = await start(shop, body(world, quantity=2))

    assert response.status_code == 201, response.text
    out = response.json()
    assert out["amount_vnd"] == 360_000
    assert out["checkout_url"].startswith(f"{shop.stripe}/c/pay/cs_test_")
    expires = datetime.fromisoformat(out["expires_at"])
    assert timedelta(minutes=30) < expires - datetime.now(UTC) <= timedelta(minutes=35)
    assert await levels(db, world) == (100, 2)
    checkout, order = await checkout_row(db, out["order_reference"])
    assert (order.platform, order.payment_method, order.status) == (
        "direct",
        "card",
        "pending_payment",
    )
    assert order.payment_status == "pending"
    assert order.buyer_phone == "0912345678"
    assert checkout.status == "open"

    sim = StripeSim(shop.stripe)
    assert checkout.stripe_session_id is not None
    session = await sim.session(checkout.stripe_session_id)
    assert session["amount_total"] == 360_000
    assert session["currency"] == "vnd"
    assert session["client_reference_id"] == out["order_reference"]
    assert session["success_url"].endswith(
        f"/buy/{world.coop_a}/thanks?order={out['order_reference']}"
    )
    await sim.pay(checkout.stripe_session_id)
    rows = await stripe_rows(db)
    assert [r.topic for r in rows] == ["checkout.session.completed"]
    await work(shop)

    checkout, order = await checkout_row(db, out["order_reference"])
    assert (order.status, order.payment_status) == ("confirmed", "paid")
    assert checkout.payment_intent is not None
    assert checkout.payment_intent.startswith("pi_")
    [shipment] = await shipments(db, order.id)
    assert shipment.status == "handed_off"
    assert shipment.cod_amount_vnd == 0  # paid by card: the carrier collects nothing
    parcel = await CarrierSim(viettel_post_sim).parcel(f"PHN-{order.id}")
    assert parcel["request"]["RECEIVER_FULLNAME"] == "Nguyễn Thị Hoa"
    assert await levels(db, world) == (100, 2)
    trail = await kinds(db, order.id)
    assert trail[:3] == ["created", "stock_reserved", "paid"]
    assert "shipment_created" in trail
    assert [r.outcome for r in await stripe_rows(db)] == ["paid"]
