"""Shops (channel connections) for both cooperatives, and a seller of cooperative B."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from api.accounts.models import Role
from api.catalogue.models import MovementKind
from api.catalogue.stock import move_stock
from api.core.db import Database
from tests.api.live_sessions.helpers import Shop, connect_shop
from tests.factories import Member, World, add_member


@dataclass(frozen=True)
class Shops:
    """Coop A's TikTok and Shopee shops, coop B's TikTok shop, and coop B's seller."""

    tiktok_a: Shop
    shopee_a: Shop
    tiktok_b: Shop
    seller_b: Member


@pytest.fixture
async def shops(db: Database, world: World) -> Shops:
    """Channel connections arranged directly (the channels package owns their endpoints).

    Orders here go through the real intake, which reserves stock: product A gets enough that
    only caps and limits, never a shortfall, decide what the tests see.
    """
    async with db.session() as session:
        await move_stock(session, world.product_a.variants[0].id, MovementKind.RECEIVED, 10_000)
        await session.commit()
    return Shops(
        tiktok_a=await connect_shop(db, world.coop_a, "tiktok_shop", "7000000001"),
        shopee_a=await connect_shop(db, world.coop_a, "shopee", "880001"),
        tiktok_b=await connect_shop(db, world.coop_b, "tiktok_shop", "7000000002"),
        seller_b=await add_member(db, Role.SELLER, world.coop_b),
    )
