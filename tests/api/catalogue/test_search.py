"""Search ignores case and Vietnamese diacritics."""

from __future__ import annotations

import httpx
import pytest

from api.core.db import Database
from api.core.text import fold
from tests.factories import World, product_spec


@pytest.mark.pure
@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Gạo ST25", "gao st25"),
        ("Đặc sản  Đắk Lắk", "dac san dak lak"),
        ("MẬT ONG hoa rừng", "mat ong hoa rung"),
        ("Sâm Ngọc Linh", "sam ngoc linh"),
    ],
)
def test_fold_strips_case_diacritics_and_spaces(text: str, folded: str) -> None:
    assert fold(text) == folded


async def _names(client: httpx.AsyncClient, world: World, q: str) -> list[str]:
    response = await client.get(
        "/api/v1/products", params={"q": q}, headers=world.users["admin"].headers
    )
    assert response.status_code == 200
    return [p["name"] for p in response.json()["items"]]


async def test_search_finds_products_without_diacritics(
    client: httpx.AsyncClient, world: World, db: Database
) -> None:
    async with db.session() as session:
        from api.catalogue.service import create_product

        await create_product(session, None, product_spec(world.coop_a, "Gạo ST25 Đặc sản"))
        await create_product(session, None, product_spec(world.coop_a, "Mật ong hoa rừng"))
        await session.commit()
    assert await _names(client, world, "gao st25") == ["Gạo ST25 Đặc sản"]
    assert await _names(client, world, "GẠO st25") == ["Gạo ST25 Đặc sản"]
    assert await _names(client, world, "mat ong") == ["Mật ong hoa rừng"]
    assert await _names(client, world, "dac san gao") == ["Gạo ST25 Đặc sản"]
    assert await _names(client, world, "gao") == ["Gạo Séng Cù", "Gạo ST25 Đặc sản"]
    assert await _names(client, world, "ca phe") == ["Cà phê rang củi"]
    assert await _names(client, world, "100%_") == []


async def test_search_matches_skus(client: httpx.AsyncClient, world: World) -> None:
    sku = world.product_a.variants[0].sku
    assert await _names(client, world, sku.lower()) == ["Gạo Séng Cù"]


async def test_search_respects_tenancy(client: httpx.AsyncClient, world: World) -> None:
    response = await client.get(
        "/api/v1/products", params={"q": "ca phe"}, headers=world.users["seller"].headers
    )
    assert response.json()["total"] == 0
