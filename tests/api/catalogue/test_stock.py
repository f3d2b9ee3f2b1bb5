"""Stock adjustments: one conditional statement each, a ledger row each, never negative."""

from __future__ import annotations

import asyncio

import httpx

from api.catalogue.models import MovementKind
from api.catalogue.stock import move_stock
from api.core.db import Database
from tests.factories import World


def _paths(world: World) -> tuple[str, str]:
    product = world.product_a
    base = f"/api/v1/products/{product.id}/variants/{product.variants[0].id}"
    return base + "/stock-adjustments", base + "/stock-movements"


async def test_received_and_adjusted_stock_is_ledgered(
    client: httpx.AsyncClient, world: World
) -> None:
    adjust, ledger = _paths(world)
    headers = world.users["coop_admin"].headers
    response = await client.post(adjust, json={"kind": "received", "quantity": 40}, headers=headers)
    assert response.status_code == 200
    assert response.json()["stock_on_hand"] == 140
    response = await client.post(
        adjust, json={"kind": "adjusted", "quantity": -15, "reason": "hỏng"}, headers=headers
    )
    assert response.json()["stock_available"] == 125
    rows = (await client.get(ledger, headers=headers)).json()["items"]
    assert [(r["kind"], r["quantity"], r["on_hand_after"]) for r in rows] == [
        ("adjusted", -15, 125),
        ("received", 40, 140),
        ("received", 100, 100),
    ]


async def test_stock_never_goes_below_zero_or_reserved(
    client: httpx.AsyncClient, world: World, db: Database
) -> None:
    adjust, _ = _paths(world)
    headers = world.users["coop_admin"].headers
    variant_id = world.product_a.variants[0].id
    async with db.session() as session:
        assert await move_stock(session, variant_id, MovementKind.RESERVED, 30) is not None
        await session.commit()
    response = await client.post(
        adjust, json={"kind": "adjusted", "quantity": -80}, headers=headers
    )
    assert response.status_code == 422
    assert "reserved" in response.json()["detail"][0]["msg"]
    response = await client.post(
        adjust, json={"kind": "adjusted", "quantity": -70}, headers=headers
    )
    assert response.status_code == 200
    assert response.json()["stock_available"] == 0


async def test_concurrent_reservations_never_oversell(world: World, db: Database) -> None:
    variant_id = world.product_a.variants[0].id  # 100 on hand

    async def reserve() -> bool:
        async with db.session() as session:
            levels = await move_stock(session, variant_id, MovementKind.RESERVED, 3)
            await session.commit()
            return levels is not None

    results = await asyncio.gather(*(reserve() for _ in range(60)))
    assert sum(results) == 33  # 33 x 3 = 99 <= 100 < 34 x 3
    async with db.session() as session:
        from api.catalogue.models import Variant

        variant = await session.get(Variant, variant_id)
        assert variant is not None
        assert (variant.stock_on_hand, variant.stock_reserved) == (100, 99)


async def test_bad_adjustments_answer_422(client: httpx.AsyncClient, world: World) -> None:
    adjust, _ = _paths(world)
    headers = world.users["admin"].headers
    for body in (
        {"kind": "received", "quantity": -1},
        {"kind": "received", "quantity": 0},
        {"kind": "stolen", "quantity": 1},
        {"kind": "received", "quantity": "many"},
        {"kind": "received", "quantity": 10**12},
    ):
        response = await client.post(adjust, json=body, headers=headers)
        assert response.status_code == 422, body
