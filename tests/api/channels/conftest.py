"""Two connected shops (one per cooperative) on top of the standard world, arranged over HTTP."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.factories import World

_shop = itertools.count(7_000_000_001)
API = "/api/v1/channel-connections"


@dataclass
class Shops:
    """The world plus a TikTok Shop connection for coop A and one for coop B."""

    world: World
    conn_a: int
    conn_b: int

    def conn(self, side: str) -> int:
        """The connection of our cooperative ("own") or the other one."""
        return self.conn_a if side == "own" else self.conn_b

    def coop(self, side: str) -> int:
        """Coop A ("own") or coop B."""
        return self.world.coop_a if side == "own" else self.world.coop_b

    def variant(self, side: str) -> int:
        """The variant of the cooperative on that side."""
        product = self.world.product_a if side == "own" else self.world.product_b
        return product.variants[0].id

    @property
    def admin(self) -> dict[str, str]:
        """The admin's headers."""
        return self.world.users["admin"].headers


def new_shop_id() -> str:
    """A shop id nobody has connected yet."""
    return str(next(_shop))


def connection_body(cooperative_id: int, **extra: Any) -> dict[str, Any]:
    """A valid create body for a TikTok Shop connection."""
    return {
        "cooperative_id": cooperative_id,
        "platform": "tiktok_shop",
        "shop_id": new_shop_id(),
        "shop_name": "HTX trên TikTok",
        **extra,
    }


async def connect(client: httpx.AsyncClient, world: World, cooperative_id: int) -> int:
    """Create a connection as the admin and return its id."""
    response = await client.post(
        API, json=connection_body(cooperative_id), headers=world.users["admin"].headers
    )
    assert response.status_code == 201, response.text
    connection_id: int = response.json()["id"]
    return connection_id


@pytest.fixture
async def shops(client: httpx.AsyncClient, world: World) -> Shops:
    """A connection in each cooperative."""
    return Shops(
        world,
        await connect(client, world, world.coop_a),
        await connect(client, world, world.coop_b),
    )
