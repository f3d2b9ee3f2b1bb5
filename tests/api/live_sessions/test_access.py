"""Every live-session endpoint x role x own/other cooperative."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from api.accounts.models import Role
from api.accounts.scope import Actor
from api.core.db import Database
from api.core.errors import Conflict
from api.live_sessions.models import LiveStatus
from api.live_sessions.schemas import LiveSessionCreate, OfferCreate
from api.live_sessions.service import add_offer, change_status, create_live_session
from tests.api.live_sessions.conftest import Shops
from tests.api.live_sessions.helpers import schedule
from tests.factories import World

ROLES = ("admin", "program_manager", "coop_admin", "seller", "logistics")
READ = ((200,) * 5, (200, 200, 404, 404, 404))
RUN = ((200, 403, 200, 200, 403), (200, 403, 404, 404, 404))


@dataclass(frozen=True)
class Arranged:
    """A fresh session (and maybe an offer) of one side, for one request."""

    live_id: int
    offer_id: int | None
    variant_id: int


@dataclass(frozen=True)
class Case:
    """One endpoint; `expected` is (own, other) statuses in ROLES order."""

    name: str
    method: str
    path: Callable[[Arranged], str]
    body: Callable[[Arranged], dict[str, Any] | None]
    expected: tuple[tuple[int, ...], tuple[int, ...]]
    live: bool = False
    offer: bool = True


def _ok(expected: tuple[tuple[int, ...], tuple[int, ...]], code: int) -> Any:
    return tuple(tuple(code if s == 200 else s for s in side) for side in expected)


def _s(a: Arranged) -> str:
    return f"/api/v1/live-sessions/{a.live_id}"


CASES = [
    Case("read", "GET", _s, lambda a: None, READ),
    Case("update", "PATCH", _s, lambda a: {"title": "Phiên mới"}, RUN),
    Case("start", "POST", lambda a: f"{_s(a)}/start", lambda a: None, RUN),
    Case("end", "POST", lambda a: f"{_s(a)}/end", lambda a: None, RUN, live=True),
    Case("cancel", "POST", lambda a: f"{_s(a)}/cancel", lambda a: None, RUN),
    Case("list offers", "GET", lambda a: f"{_s(a)}/offers", lambda a: None, READ),
    Case("add offer", "POST", lambda a: f"{_s(a)}/offers",
         lambda a: {"variant_id": a.variant_id, "live_price_vnd": 120_000}, _ok(RUN, 201),
         offer=False),
    Case("update offer", "PATCH", lambda a: f"{_s(a)}/offers/{a.offer_id}",
         lambda a: {"quantity_cap": 20}, RUN),
    Case("delete offer", "DELETE", lambda a: f"{_s(a)}/offers/{a.offer_id}",
         lambda a: None, _ok(RUN, 204)),
    Case("pin", "POST", lambda a: f"{_s(a)}/pin", lambda a: {"offer_id": a.offer_id}, RUN,
         live=True),
    Case("stats", "GET", lambda a: f"{_s(a)}/stats", lambda a: None, READ, live=True),
]  # fmt: skip


async def _arrange(db: Database, world: World, shops: Shops, side: str, case: Case) -> Arranged:
    """Through the services as an admin, so every request meets a session in the right state."""
    admin = Actor(world.users["admin"].user_id, Role.ADMIN, None, None)
    shop, product = (
        (shops.tiktok_a, world.product_a) if side == "own" else (shops.tiktok_b, world.product_b)
    )
    host = world.users["seller"] if side == "own" else shops.seller_b
    variant_id = product.variants[0].id
    async with db.session() as session:
        data = LiveSessionCreate(
            cooperative_id=shop.cooperative_id, channel_connection_id=shop.id, title="Phiên",
            scheduled_start=datetime(2026, 12, 1, 5, tzinfo=UTC), host_user_id=host.user_id,
        )  # fmt: skip
        live = await create_live_session(session, admin, data)
        assert live.id is not None
        offer = None
        if case.offer:
            made = OfferCreate(variant_id=variant_id, live_price_vnd=100_000)
            offer = (await add_offer(session, admin, live.id, made)).id
        if case.live:
            await change_status(session, admin, live.id, LiveStatus.LIVE)
        await session.commit()
        return Arranged(live.id, offer, variant_id)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
async def test_role_matrix(
    case: Case, client: httpx.AsyncClient, db: Database, world: World, shops: Shops
) -> None:
    for side, expected in zip(("own", "other"), case.expected, strict=True):
        for role, status in zip(ROLES, expected, strict=True):
            # Each request gets its own session; a live one would block the next start.
            arranged = await _arrange(db, world, shops, side, case)
            response = await client.request(
                case.method, case.path(arranged), json=case.body(arranged),
                headers=world.users[role].headers,
            )  # fmt: skip
            assert response.status_code == status, (role, side, response.text)
            await _end(db, world, arranged.live_id)


async def _end(db: Database, world: World, live_id: int) -> None:
    admin = Actor(world.users["admin"].user_id, Role.ADMIN, None, None)
    async with db.session() as session:
        try:
            await change_status(session, admin, live_id, LiveStatus.ENDED)
        except Conflict:
            return  # not live (any more): nothing to end
        await session.commit()


CREATE_OWN = (201, 403, 201, 201, 403)
CREATE_OTHER = (201, 403, 404, 404, 404)


async def test_create_matrix(client: httpx.AsyncClient, world: World, shops: Shops) -> None:
    for side, shop, host, expected in (
        ("own", shops.tiktok_a, world.users["seller"], CREATE_OWN),
        ("other", shops.tiktok_b, shops.seller_b, CREATE_OTHER),
    ):
        body = {"cooperative_id": shop.cooperative_id, "channel_connection_id": shop.id,
                "title": "Phiên", "scheduled_start": "2026-12-01T05:00:00Z",
                "host_user_id": host.user_id}  # fmt: skip
        for role, status in zip(ROLES, expected, strict=True):
            response = await client.post(
                "/api/v1/live-sessions", json=body, headers=world.users[role].headers
            )
            assert response.status_code == status, (role, side, response.text)


async def test_lists_only_show_the_actors_scope(
    client: httpx.AsyncClient, world: World, shops: Shops
) -> None:
    await schedule(client, world.users["seller"], shops.tiktok_a)
    await schedule(client, shops.seller_b, shops.tiktok_b)
    expected = {"admin": 2, "program_manager": 2, "coop_admin": 1, "seller": 1, "logistics": 1}
    for role, total in expected.items():
        headers = world.users[role].headers
        body = (await client.get("/api/v1/live-sessions", headers=headers)).json()
        assert body["total"] == total, role
        assert {i["cooperative_id"] for i in body["items"]} <= {world.coop_a, world.coop_b}
    seller_b = (await client.get("/api/v1/live-sessions", headers=shops.seller_b.headers)).json()
    assert [i["cooperative_id"] for i in seller_b["items"]] == [world.coop_b]
