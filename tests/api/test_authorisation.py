"""Every endpoint x role x own/other cooperative: another cooperative's object answers 404."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.factories import World

_sku = itertools.count(1)
ROLES = ("admin", "program_manager", "coop_admin", "seller", "logistics")


@dataclass(frozen=True)
class Case:
    """One endpoint; `own`/`other` give the expected status per role, in ROLES order."""

    name: str
    method: str
    path: Callable[[World, str], str]
    body: Callable[[World, str], dict[str, Any] | None]
    own: tuple[int, ...]
    other: tuple[int, ...]


def _coop(w: World, side: str) -> int:
    return w.coop_a if side == "own" else w.coop_b


def _product(w: World, side: str) -> int:
    return (w.product_a if side == "own" else w.product_b).id


def _variant(w: World, side: str) -> int:
    return (w.product_a if side == "own" else w.product_b).variants[0].id


def _new_variant(_: World, __: str) -> dict[str, Any]:
    return {
        "sku": f"NEW-{next(_sku)}",
        "unit_label": "hũ 500 g",
        "net_weight_g": 500,
        "shipping_weight_g": 700,
        "price_vnd": 90000,
    }


CASES = [
    Case("read cooperative", "GET", lambda w, s: f"/api/v1/cooperatives/{_coop(w, s)}",
         lambda w, s: None, (200, 200, 200, 200, 200), (200, 200, 404, 404, 404)),
    Case("update cooperative", "PATCH", lambda w, s: f"/api/v1/cooperatives/{_coop(w, s)}",
         lambda w, s: {"name": "HTX mới"}, (200, 403, 200, 403, 403), (200, 403, 404, 404, 404)),
    Case("read product", "GET", lambda w, s: f"/api/v1/products/{_product(w, s)}",
         lambda w, s: None, (200, 200, 200, 200, 200), (200, 200, 404, 404, 404)),
    Case("update product", "PATCH", lambda w, s: f"/api/v1/products/{_product(w, s)}",
         lambda w, s: {"description": "mới"}, (200, 403, 200, 403, 403), (200, 403, 404, 404, 404)),
    Case("create product", "POST", lambda w, s: "/api/v1/products",
         lambda w, s: {"cooperative_id": _coop(w, s), "name": "Mật ong", "category": "honey",
                       "variants": [_new_variant(w, s)]},
         (201, 403, 201, 403, 403), (201, 403, 404, 404, 404)),
    Case("add variant", "POST", lambda w, s: f"/api/v1/products/{_product(w, s)}/variants",
         _new_variant, (201, 403, 201, 403, 403), (201, 403, 404, 404, 404)),
    Case("update variant", "PATCH",
         lambda w, s: f"/api/v1/products/{_product(w, s)}/variants/{_variant(w, s)}",
         lambda w, s: {"price_vnd": 175000}, (200, 403, 200, 403, 403), (200, 403, 404, 404, 404)),
    Case("adjust stock", "POST",
         lambda w, s: f"/api/v1/products/{_product(w, s)}/variants/{_variant(w, s)}/stock-adjustments",
         lambda w, s: {"kind": "received", "quantity": 5, "reason": "thu hoạch"},
         (200, 403, 200, 403, 403), (200, 403, 404, 404, 404)),
    Case("stock ledger", "GET",
         lambda w, s: f"/api/v1/products/{_product(w, s)}/variants/{_variant(w, s)}/stock-movements",
         lambda w, s: None, (200, 200, 200, 200, 200), (200, 200, 404, 404, 404)),
    Case("create member", "POST", lambda w, s: "/api/v1/users",
         lambda w, s: {"email": f"m{next(_sku)}@x.vn", "role": "seller",
                       "cooperative_id": _coop(w, s)},
         (201, 403, 201, 403, 403), (201, 403, 404, 403, 403)),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
async def test_role_matrix(case: Case, client: httpx.AsyncClient, world: World) -> None:
    seen: dict[tuple[str, str], int] = {}
    for side, expected in (("own", case.own), ("other", case.other)):
        for role, status in zip(ROLES, expected, strict=True):
            response = await client.request(
                case.method,
                case.path(world, side),
                json=case.body(world, side),
                headers=world.users[role].headers,
            )
            seen[(role, side)] = response.status_code
            assert response.status_code == status, (role, side, response.text)
    assert len(seen) == 10


async def test_member_reads_follow_scope(client: httpx.AsyncClient, world: World) -> None:
    seller_id = world.users["seller"].user_id
    path = f"/api/v1/users/{seller_id}"
    expected = {"admin": 200, "program_manager": 404, "coop_admin": 200, "seller": 200,
                "logistics": 404}  # fmt: skip
    for role, status in expected.items():
        response = await client.get(path, headers=world.users[role].headers)
        assert response.status_code == status, role


async def test_lists_only_show_the_actors_scope(client: httpx.AsyncClient, world: World) -> None:
    for role, coops in {"admin": 2, "program_manager": 2, "coop_admin": 1, "seller": 1,
                        "logistics": 1}.items():  # fmt: skip
        headers = world.users[role].headers
        body = (await client.get("/api/v1/cooperatives", headers=headers)).json()
        assert body["total"] == coops, role
        products = (await client.get("/api/v1/products", headers=headers)).json()
        assert products["total"] == coops, role
        other = await client.get(f"/api/v1/products?cooperative_id={world.coop_b}", headers=headers)
        assert other.json()["total"] == (1 if coops == 2 else 0), role


async def test_only_admins_create_cooperatives(client: httpx.AsyncClient, world: World) -> None:
    body = {"name": "HTX Tân Lập", "phone": "0900000001",
            "address": {"province": "Đắk Lắk", "ward": "Phường Tân Lập", "street": "1 Lê Lợi"}}  # fmt: skip
    for role in ROLES:
        response = await client.post(
            "/api/v1/cooperatives", json=body, headers=world.users[role].headers
        )
        assert response.status_code == (201 if role == "admin" else 403), role


async def test_missing_or_wrong_tokens_answer_401(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/products")).status_code == 401
    bad = {"Authorization": "Bearer phn_not-a-token"}
    assert (await client.get("/api/v1/products", headers=bad)).status_code == 401
    basic = {"Authorization": "Basic dXNlcjpwYXNz"}
    assert (await client.get("/api/v1/products", headers=basic)).status_code == 401


async def test_revoked_tokens_answer_401(client: httpx.AsyncClient, world: World) -> None:
    seller = world.users["seller"]
    other = world.users["coop_admin"]
    path = f"/api/v1/users/{seller.user_id}/tokens"
    assert (await client.delete(path, headers=other.headers)).status_code == 403
    assert (await client.get("/api/v1/users/me", headers=seller.headers)).status_code == 200
    assert (await client.delete(path, headers=seller.headers)).status_code == 204
    assert (await client.get("/api/v1/users/me", headers=seller.headers)).status_code == 401
    admin = world.users["admin"]
    path = f"/api/v1/users/{other.user_id}/tokens"
    assert (await client.delete(path, headers=admin.headers)).status_code == 204
    assert (await client.get("/api/v1/users/me", headers=other.headers)).status_code == 401
