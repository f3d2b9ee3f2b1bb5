"""Bad input is answered 4xx with field paths, never 500."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.factories import World

ADDRESS = {"province": "Đắk Lắk", "ward": "Phường Tân Lập", "street": "1 Lê Lợi"}
VALID_COOP: dict[str, object] = {"name": "HTX Tân Lập", "phone": "0900000001", "address": ADDRESS}


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({**VALID_COOP, "phone": 12345}, ["body", "phone"]),
        ({**VALID_COOP, "phone": "12345"}, ["body", "phone"]),
        ({**VALID_COOP, "unknown": True}, ["body", "unknown"]),
        ({**VALID_COOP, "address": {**ADDRESS, "province": "Hà Tây"}},
         ["body", "address", "province"]),
        ({**VALID_COOP, "address": {**ADDRESS, "ward": "Xã Bình Lư"}},
         ["body", "address", "ward"]),
        ({**VALID_COOP, "address": "Đắk Lắk"}, ["body", "address"]),
        ({"name": "x"}, ["body", "phone"]),
    ],
)  # fmt: skip
async def test_cooperative_validation_names_the_field(
    client: httpx.AsyncClient, world: World, body: dict[str, object], loc: list[str]
) -> None:
    response = await client.post(
        "/api/v1/cooperatives", json=body, headers=world.users["admin"].headers
    )
    assert response.status_code == 422
    assert loc in [e["loc"] for e in response.json()["detail"]]


async def test_wrong_types_and_bounds_in_products(client: httpx.AsyncClient, world: World) -> None:
    headers = world.users["admin"].headers
    base = {"cooperative_id": world.coop_a, "name": "Chè", "category": "tea"}
    variant = {"sku": "CHE-1", "unit_label": "hộp", "net_weight_g": 200,
               "shipping_weight_g": 300, "price_vnd": 150000}  # fmt: skip
    cases = [
        {**base, "category": "wine"},
        {**base, "ocop_stars": 6},
        {**base, "variants": [{**variant, "price_vnd": 1.5}]},
        {**base, "variants": [{**variant, "price_vnd": -1}]},
        {**base, "variants": [{**variant, "net_weight_g": 0}]},
        {**base, "variants": [{**variant, "shipping_weight_g": 100}]},
        {**base, "variants": [{**variant, "sku": "bad sku with spaces"}]},
        {**base, "cooperative_id": "one"},
        {**base, "certifications": ["halal-ish"]},
    ]
    for body in cases:
        response = await client.post("/api/v1/products", json=body, headers=headers)
        assert response.status_code == 422, body
        assert all(e["loc"][0] == "body" for e in response.json()["detail"])


async def test_malformed_json_and_wrong_content(client: httpx.AsyncClient, world: World) -> None:
    headers = {**world.users["admin"].headers, "content-type": "application/json"}
    for raw in (b"{not json", b"[]", b"null", b'"text"', b"\xff\xfe"):
        response = await client.post("/api/v1/products", content=raw, headers=headers)
        assert response.status_code == 422, raw


async def test_huge_bodies_answer_413(client: httpx.AsyncClient, world: World) -> None:
    headers = {**world.users["admin"].headers, "content-type": "application/json"}
    huge = b'{"name": "' + b"x" * 300_000 + b'"}'
    response = await client.post("/api/v1/products", content=huge, headers=headers)
    assert response.status_code == 413

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(30):
            yield b"x" * 10_000

    response = await client.post("/api/v1/products", content=chunks(), headers=headers)
    assert response.status_code == 413


async def test_bad_ids_and_query_parameters(client: httpx.AsyncClient, world: World) -> None:
    headers = world.users["admin"].headers
    assert (await client.get("/api/v1/products/abc", headers=headers)).status_code == 422
    assert (await client.get("/api/v1/products/999999", headers=headers)).status_code == 404
    assert (await client.get(f"/api/v1/products/{2**70}", headers=headers)).status_code in (
        404,
        422,
    )
    assert (await client.get("/api/v1/products?limit=0", headers=headers)).status_code == 422
    assert (await client.get("/api/v1/products?limit=10000", headers=headers)).status_code == 422
    assert (await client.get("/api/v1/products?offset=-1", headers=headers)).status_code == 422
    assert (await client.get("/api/v1/products?category=wine", headers=headers)).status_code == 422


async def test_duplicate_sku_is_a_conflict(client: httpx.AsyncClient, world: World) -> None:
    product = world.product_a
    body = {"sku": product.variants[0].sku, "unit_label": "túi", "net_weight_g": 1000,
            "shipping_weight_g": 1100, "price_vnd": 1000}  # fmt: skip
    response = await client.post(
        f"/api/v1/products/{product.id}/variants", json=body, headers=world.users["admin"].headers
    )
    assert response.status_code == 409


async def test_duplicate_email_is_a_conflict(client: httpx.AsyncClient, world: World) -> None:
    headers = world.users["admin"].headers
    body = {"email": "Dup@Example.vn", "role": "program_manager"}
    assert (await client.post("/api/v1/users", json=body, headers=headers)).status_code == 201
    body["email"] = "dup@example.VN"
    assert (await client.post("/api/v1/users", json=body, headers=headers)).status_code == 409


async def test_role_shape_rules(client: httpx.AsyncClient, world: World) -> None:
    headers = world.users["admin"].headers
    cases = [
        ({"email": "a@b.vn", "role": "seller"}, ["body", "cooperative_id"]),
        ({"email": "c@b.vn", "role": "admin", "cooperative_id": world.coop_a}, ["body", "cooperative_id"]),
        ({"email": "d@b.vn", "role": "seller", "cooperative_id": world.coop_a,
          "province_codes": [12]}, ["body", "province_codes"]),
        ({"email": "not-an-email", "role": "admin"}, ["body", "email"]),
        ({"email": "e@b.vn", "role": "emperor"}, ["body", "role"]),
    ]  # fmt: skip
    for body, loc in cases:
        response = await client.post("/api/v1/users", json=body, headers=headers)
        assert response.status_code == 422, body
        assert loc in [e["loc"] for e in response.json()["detail"]], response.text
