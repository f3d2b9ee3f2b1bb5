"""Every channel endpoint x role x own/other cooperative: another cooperative's answers 404."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from api.accounts.models import Role
from api.core.db import Database
from tests.api.channels.conftest import API, Shops, connection_body
from tests.factories import add_member

_seq = itertools.count(1)
ROLES = ("admin", "program_manager", "coop_admin", "seller", "logistics")
READ_OWN, READ_OTHER = (200, 200, 200, 200, 200), (200, 200, 404, 404, 404)

Path = Callable[[httpx.AsyncClient, Shops, str], Awaitable[str]]


def fixed(build: Callable[[Shops, str], str]) -> Path:
    """A path that needs no arranging."""

    async def path(_: httpx.AsyncClient, shops: Shops, side: str) -> str:
        return build(shops, side)

    return path


async def fresh_mapping(client: httpx.AsyncClient, shops: Shops, side: str) -> str:
    """A mapping created by the admin just now, so every role deletes one that exists."""
    base = f"{API}/{shops.conn(side)}/sku-mappings"
    body = {"platform_sku_id": f"TT-{next(_seq)}", "variant_id": shops.variant(side)}
    response = await client.post(base, json=body, headers=shops.admin)
    assert response.status_code == 201, response.text
    return f"{base}/{response.json()['id']}"


def new_mapping(shops: Shops, side: str) -> dict[str, Any]:
    """A mapping body for a platform SKU nobody has mapped."""
    return {"platform_sku_id": f"TT-{next(_seq)}", "variant_id": shops.variant(side)}


@dataclass(frozen=True)
class Case:
    """One endpoint; `own`/`other` give the expected status per role, in ROLES order."""

    name: str
    method: str
    path: Path
    body: Callable[[Shops, str], dict[str, Any] | None]
    own: tuple[int, ...]
    other: tuple[int, ...]


CASES = [
    Case("read connection", "GET", fixed(lambda s, side: f"{API}/{s.conn(side)}"),
         lambda s, side: None, READ_OWN, READ_OTHER),
    # Typing a shop's ids and tokens is for admins; coop admins use the platform's authorisation.
    Case("create connection", "POST", fixed(lambda s, side: API),
         lambda s, side: connection_body(s.coop(side)),
         (201, 403, 403, 403, 403), (201, 403, 404, 404, 404)),
    Case("update connection", "PATCH", fixed(lambda s, side: f"{API}/{s.conn(side)}"),
         lambda s, side: {"shop_name": "Gian hàng mới"},
         (200, 403, 200, 403, 403), (200, 403, 404, 404, 404)),
    Case("rotate tokens", "PATCH", fixed(lambda s, side: f"{API}/{s.conn(side)}"),
         lambda s, side: {"access_token": f"rotated-{next(_seq)}"},
         (200, 403, 403, 403, 403), (200, 403, 404, 404, 404)),
    Case("type a shop cipher", "PATCH", fixed(lambda s, side: f"{API}/{s.conn(side)}"),
         lambda s, side: {"shop_cipher": f"ROW_typed_{next(_seq)}"},
         (200, 403, 403, 403, 403), (200, 403, 404, 404, 404)),
    Case("list sku mappings", "GET", fixed(lambda s, side: f"{API}/{s.conn(side)}/sku-mappings"),
         lambda s, side: None, READ_OWN, READ_OTHER),
    Case("create sku mapping", "POST",
         fixed(lambda s, side: f"{API}/{s.conn(side)}/sku-mappings"), new_mapping,
         (201, 403, 201, 403, 403), (201, 403, 404, 404, 404)),
    Case("delete sku mapping", "DELETE", fresh_mapping, lambda s, side: None,
         (204, 403, 204, 403, 403), (204, 403, 404, 404, 404)),
    Case("unmapped skus", "GET", fixed(lambda s, side: f"{API}/{s.conn(side)}/unmapped-skus"),
         lambda s, side: None, READ_OWN, READ_OTHER),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
async def test_role_matrix(case: Case, client: httpx.AsyncClient, shops: Shops) -> None:
    seen: dict[tuple[str, str], int] = {}
    for side, expected in (("own", case.own), ("other", case.other)):
        for role, status in zip(ROLES, expected, strict=True):
            response = await client.request(
                case.method,
                await case.path(client, shops, side),
                json=case.body(shops, side),
                headers=shops.world.users[role].headers,
            )
            seen[(role, side)] = response.status_code
            assert response.status_code == status, (role, side, response.text)
    assert len(seen) == 10


async def test_lists_only_show_the_actors_scope(client: httpx.AsyncClient, shops: Shops) -> None:
    for role, visible in {"admin": 2, "program_manager": 2, "coop_admin": 1, "seller": 1,
                          "logistics": 1}.items():  # fmt: skip
        headers = shops.world.users[role].headers
        body = (await client.get(API, headers=headers)).json()
        assert body["total"] == visible, role
        assert {c["id"] for c in body["items"]} <= {shops.conn_a, shops.conn_b}
        other = await client.get(f"{API}?cooperative_id={shops.world.coop_b}", headers=headers)
        assert other.json()["total"] == (1 if visible == 2 else 0), role


async def test_all_province_logistics_sees_every_connection(
    client: httpx.AsyncClient, shops: Shops, db: Database
) -> None:
    everywhere = await add_member(db, Role.LOGISTICS)
    body = (await client.get(API, headers=everywhere.headers)).json()
    assert body["total"] == 2
    read = await client.get(f"{API}/{shops.conn_b}", headers=everywhere.headers)
    assert read.status_code == 200
    write = await client.patch(
        f"{API}/{shops.conn_b}", json={"status": "disabled"}, headers=everywhere.headers
    )
    assert write.status_code == 403


async def test_missing_token_answers_401(client: httpx.AsyncClient, shops: Shops) -> None:
    for path in (API, f"{API}/{shops.conn_a}", f"{API}/{shops.conn_a}/sku-mappings",
                 f"{API}/{shops.conn_a}/unmapped-skus"):  # fmt: skip
        assert (await client.get(path)).status_code == 401, path
    assert (await client.post(API, json=connection_body(shops.world.coop_a))).status_code == 401
