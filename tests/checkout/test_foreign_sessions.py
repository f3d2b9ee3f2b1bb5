"""A paid session that is not the one we opened must never confirm one of our orders.

Stripe accounts are shared between environments (a staging and a production server, each with
its own database, their order ids overlapping); a session's metadata is only what its creator
wrote. Before the session id is stored (Stripe refused or timed out, or the very first moments),
only the metadata names the order: it must name the same order (its unguessable reference), for
the amount and currency we asked.
"""

from __future__ import annotations

import time

from sqlalchemy import select

from api.core.db import Database
from api.orders.models import Order
from integrations.payments.stripe_client import StripePayments
from integrations.payments.types import CheckoutLine
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


async def _abandoned(shop: Shop, db: Database, world: World) -> tuple[int, str]:
    """A checkout Stripe refused: its order is cancelled and no session id is stored."""
    await StripeSim(shop.stripe).call("POST", "/faults", {"count": 1, "status_code": 400})
    response = await start(shop, body(world))
    assert response.status_code == 502
    async with db.session() as session:
        order = (await session.execute(select(Order))).scalar_one()
    assert order.id is not None
    return order.id, order.platform_order_id


async def _foreign_paid(shop: Shop, metadata: dict[str, str], amount: int, key: str) -> str:
    payments = StripePayments(api_key=shop.settings.stripe_api_key.get_secret_value(),
                              api_base=shop.stripe)  # fmt: skip
    try:
        foreign = await payments.create_checkout_session(
            lines=[CheckoutLine("Trà shan tuyết", amount, 1)],
            client_reference_id=metadata.get("order_reference", "elsewhere"),
            success_url="http://127.0.0.1/ok",
            cancel_url="http://127.0.0.1/no",
            expires_at=int(time.time()) + 3600,
            metadata=metadata,
            idempotency_key=key,
        )
    finally:
        await payments.aclose()
    await StripeSim(shop.stripe).pay(foreign.id)
    return foreign.id


async def test_another_environments_session_naming_our_order_id_is_parked(
    shop: Shop, db: Database, world: World
) -> None:
    order_id, reference = await _abandoned(shop, db, world)

    # Another server's order with the same id (its own reference), paid for 1,000 đ.
    await _foreign_paid(
        shop, {"order_id": str(order_id), "order_reference": "DOTHERSERVER9"}, 1_000, "env-1"
    )
    await work(shop)

    [row] = await stripe_rows(db)
    assert row.parked_at is not None
    checkout, order = await checkout_row(db, reference)
    assert (order.status, checkout.paid_at) == ("cancelled", None)
    assert "paid" not in await kinds(db, order_id)
    assert await levels(db, world) == (100, 0)
    assert await shipments(db, order_id) == []


async def test_a_session_for_another_amount_never_confirms_the_order(
    shop: Shop, db: Database, world: World
) -> None:
    order_id, reference = await _abandoned(shop, db, world)

    # It names our order exactly, but was paid for 1,000 đ, not the 360,000 đ we asked.
    metadata = {"order_id": str(order_id), "order_reference": reference}
    await _foreign_paid(shop, metadata, 1_000, "amount-1")
    await work(shop)

    [row] = await stripe_rows(db)
    assert row.parked_at is not None
    assert row.last_error is not None
    assert "amount" in row.last_error
    _, order = await checkout_row(db, reference)
    assert order.status == "cancelled"
    assert order.payment_status != "paid"
    assert await levels(db, world) == (100, 0)
    assert await shipments(db, order_id) == []
