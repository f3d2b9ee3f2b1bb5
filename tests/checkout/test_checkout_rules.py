"""What the public checkout refuses, and how: 4xx that say why (never a 500), nothing held."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlmodel import col

from api.catalogue.models import Product, Variant
from api.checkout.errors import CheckoutRefused
from api.checkout.service import direct_products
from api.core.db import Database
from api.live_sessions.models import LiveOffer, LiveSession
from api.orders.models import Order
from tests.checkout.conftest import Shop
from tests.checkout.rig import StripeSim, body, levels, live_session, start, variant_id
from tests.factories import World


async def _orders(db: Database) -> list[Order]:
    async with db.session() as session:
        return list((await session.execute(select(Order))).scalars())


def _error(response: httpx.Response) -> tuple[list[str], str]:
    [detail] = response.json()["detail"]
    return detail["loc"], detail["type"]


@pytest.mark.parametrize(
    ("change", "loc", "kind"),
    [
        ({"buyer": {"ward": "Phường Không Có"}}, ["body", "buyer", "ward"], "bad_address"),
        ({"buyer": {"province": "Hà Tây"}}, ["body", "buyer", "province"], "bad_address"),
        ({"buyer": {"phone": "12345678901"}}, ["body", "buyer", "phone"], "bad_phone"),
        ({"cooperative_id": 999_999}, ["body", "cooperative_id"], "unknown_cooperative"),
        ({"live_session_id": 999_999}, ["body", "live_session_id"], "unknown_live_session"),
    ],
)
async def test_a_checkout_the_buyer_must_fix_is_422_and_holds_nothing(
    shop: Shop, db: Database, world: World, change: dict[str, Any], loc: list[str], kind: str
) -> None:
    payload = body(world)
    buyer = change.pop("buyer", None)
    payload.update(change)
    if buyer:
        payload["buyer"] = {**payload["buyer"], **buyer}

    response = await start(shop, payload)

    assert response.status_code == 422, response.text
    assert _error(response) == (loc, kind)
    assert await levels(db, world) == (100, 0)


async def test_another_cooperatives_or_an_inactive_product_is_refused(
    shop: Shop, db: Database, world: World
) -> None:
    theirs = body(world)
    theirs["lines"][0]["variant_id"] = world.product_b.variants[0].id
    response = await start(shop, theirs)
    assert (response.status_code, _error(response)[1]) == (422, "unknown_variant")

    async with db.session() as session:
        await session.execute(
            update(Product).where(col(Product.id) == world.product_a.id).values(status="archived")
        )
        await session.commit()
    response = await start(shop, body(world))
    assert (response.status_code, _error(response)) == (
        422, (["body", "lines", "0", "variant_id"], "inactive_product"),
    )  # fmt: skip


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"cooperative_id": 1, "lines": [], "buyer": {}},
        {"cooperative_id": "x", "lines": [{"variant_id": 1, "quantity": 1}]},
        {"cooperative_id": 1, "lines": [{"variant_id": 1, "quantity": 0}]},
        {"cooperative_id": 1, "lines": [{"variant_id": 1, "quantity": 100}]},
        {"cooperative_id": 2**63, "lines": [{"variant_id": 1, "quantity": 1}]},
    ],
)
async def test_malformed_checkouts_are_422(
    shop: Shop, world: World, payload: dict[str, Any]
) -> None:
    assert (await start(shop, payload)).status_code == 422


async def test_more_than_is_left_is_409_and_nothing_is_held(
    shop: Shop, db: Database, world: World
) -> None:
    async with db.session() as session:
        await session.execute(
            update(Variant).where(col(Variant.id) == variant_id(world)).values(stock_on_hand=3)
        )
        await session.commit()
    assert (await start(shop, body(world, quantity=2))).status_code == 201

    response = await start(shop, body(world, quantity=2))

    assert response.status_code == 409
    assert _error(response) == (["body", "lines", "0", "quantity"], "out_of_stock")
    assert await levels(db, world) == (3, 2)


async def test_a_live_session_sells_at_its_price_within_its_cap_and_buyer_limit(
    shop: Shop, db: Database, world: World
) -> None:
    live_id = await live_session(db, world, cap=3, per_buyer=2)

    first = await start(shop, body(world, quantity=2, live_session_id=live_id))
    again = await start(shop, body(world, quantity=1, live_session_id=live_id))
    other = await start(
        shop, body(world, quantity=2, live_session_id=live_id, buyer={"phone": "0987000111"})
    )

    assert first.status_code == 201, first.text
    assert first.json()["amount_vnd"] == 300_000  # the live price
    assert (again.status_code, _error(again)[1]) == (409, "over_buyer_limit")
    assert (other.status_code, _error(other)[1]) == (409, "over_offer_cap")
    async with db.session() as session:
        offer = (await session.execute(select(LiveOffer))).scalar_one()
    assert offer.units_claimed == 2
    assert await levels(db, world) == (100, 2)


async def test_stripe_down_is_503_with_retry_after_and_the_stock_is_back(
    shop: Shop, db: Database, world: World
) -> None:
    await StripeSim(shop.stripe).call("POST", "/faults", {"count": 10, "status_code": 500})

    response = await start(shop, body(world))

    assert response.status_code == 503
    assert int(response.headers["retry-after"]) > 0
    assert await levels(db, world) == (100, 0)
    [order] = await _orders(db)
    assert (order.status, order.payment_status) == ("cancelled", "voided")


async def test_stripe_refusing_the_session_is_502_and_the_stock_is_back(
    shop: Shop, db: Database, world: World
) -> None:
    await StripeSim(shop.stripe).call("POST", "/faults", {"count": 1, "status_code": 400})

    response = await start(shop, body(world))

    assert response.status_code == 502
    assert "payment provider refused" in response.json()["detail"]
    assert await levels(db, world) == (100, 0)


async def test_checkouts_from_one_address_are_rate_limited(shop: Shop, world: World) -> None:
    statuses = [(await start(shop, {"cooperative_id": 1})) for _ in range(25)]

    limited = [r for r in statuses if r.status_code == 429]
    assert limited
    assert int(limited[0].headers["retry-after"]) > 0
    assert {r.status_code for r in statuses} == {422, 429}


async def test_the_buy_page_lists_active_variants_at_the_live_price_while_live(
    shop: Shop, db: Database, world: World
) -> None:
    live_id = await live_session(db, world, cap=3, per_buyer=2)
    assert (await start(shop, body(world, quantity=2, live_session_id=live_id))).status_code == 201

    async with db.session() as session:
        regular = await direct_products(session, world.coop_a, None)
        on_air = await direct_products(session, world.coop_a, live_id)
        await session.execute(
            update(LiveSession).where(col(LiveSession.id) == live_id).values(status="ended")
        )
        after = await direct_products(session, world.coop_a, live_id)
        with pytest.raises(CheckoutRefused):
            await direct_products(session, world.coop_b, live_id)  # another coop's session

    [plain] = regular
    assert (plain.variant_id, plain.price_vnd, plain.available) == (variant_id(world), 180_000, 98)
    [live] = on_air
    assert (live.price_vnd, live.regular_price_vnd, live.available) == (150_000, 180_000, 1)
    assert live.per_buyer_limit == 2
    assert [p.price_vnd for p in after] == [180_000]


async def test_concurrent_buyers_never_get_more_than_the_cap_or_the_stock(
    shop: Shop, db: Database, world: World
) -> None:
    live_id = await live_session(db, world, cap=5, per_buyer=1)
    buyers = [
        body(world, quantity=1, live_session_id=live_id, buyer={"phone": f"09120000{n:02d}"})
        for n in range(15)
    ]

    answers = await asyncio.gather(*(start(shop, one) for one in buyers))

    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] * 5 + [409] * 10
    assert {_error(a)[1] for a in answers if a.status_code == 409} == {"over_offer_cap"}
    assert await levels(db, world) == (100, 5)
    async with db.session() as session:
        offer = (await session.execute(select(LiveOffer))).scalar_one()
    assert offer.units_claimed == 5
