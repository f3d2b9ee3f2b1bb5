"""Bad data is 4xx with the field; only outages are 5xx (issue 9 item 11, part of item 5).

On 95bffa4 every database error answered 503 "database unavailable": a NUL in `?q=` or in a
product name, or a stock level past the INTEGER range. Those now answer 422 naming the field,
and an exhausted connection pool answers 503 with Retry-After instead of 500.
"""

from __future__ import annotations

import httpx
from sqlalchemy import text

from api.catalogue.models import MAX_STOCK_LEVEL
from api.core.config import Settings
from api.main import create_app
from integrations.simulators.serve import serve_in_background
from tests.factories import World

TEN_MILLION = 10_000_000


def _locs(response: httpx.Response) -> list[list[str | int]]:
    return [error["loc"] for error in response.json()["detail"]]


async def test_a_nul_in_the_search_is_the_fields_422(
    client: httpx.AsyncClient, world: World
) -> None:
    response = await client.get(
        "/api/v1/products", params={"q": "gao\x00st25"}, headers=world.users["admin"].headers
    )
    assert response.status_code == 422
    assert ["query", "q"] in _locs(response)


async def test_a_nul_in_a_product_name_is_the_fields_422(
    client: httpx.AsyncClient, world: World
) -> None:
    body = {
        "cooperative_id": world.coop_a, "name": "Chè\x00 Shan", "category": "tea",
        "variants": [{"sku": "CHE-NUL", "unit_label": "hộp", "net_weight_g": 200,
                      "shipping_weight_g": 300, "price_vnd": 150000}],
    }  # fmt: skip
    response = await client.post(
        "/api/v1/products", json=body, headers=world.users["admin"].headers
    )
    assert response.status_code == 422
    assert ["body", "name"] in _locs(response)


async def test_a_nul_deep_in_a_body_is_refused_too(client: httpx.AsyncClient, world: World) -> None:
    body = {
        "cooperative_id": world.coop_a, "name": "Chè Shan", "category": "tea",
        "variants": [{"sku": "CHE\x00-1", "unit_label": "hộp", "net_weight_g": 200,
                      "shipping_weight_g": 300, "price_vnd": 150000}],
    }  # fmt: skip
    response = await client.post(
        "/api/v1/products", json=body, headers=world.users["admin"].headers
    )
    assert response.status_code == 422
    assert ["body", "variants", 0, "sku"] in _locs(response)


async def test_stock_past_its_ceiling_is_the_quantitys_422_never_503(
    client: httpx.AsyncClient, world: World
) -> None:
    product = world.product_a
    path = f"/api/v1/products/{product.id}/variants/{product.variants[0].id}/stock-adjustments"
    headers = world.users["coop_admin"].headers
    # 215 adjustments of ten million pass the INTEGER range (2,147,483,647); the ceiling
    # stops them well before, as the caller's error.
    answers = []
    for _ in range(215):
        response = await client.post(
            path, json={"kind": "received", "quantity": TEN_MILLION}, headers=headers
        )
        answers.append(response.status_code)
        if response.status_code != 200:
            break
    assert answers[-1] == 422, answers[-1]
    assert ["body", "quantity"] in _locs(response)
    assert str(MAX_STOCK_LEVEL) in response.json()["detail"][0]["msg"]
    stored = (await client.get(f"/api/v1/products/{product.id}", headers=headers)).json()
    assert stored["variants"][0]["stock_on_hand"] <= MAX_STOCK_LEVEL


async def test_an_exhausted_pool_is_503_with_retry_after(settings: Settings, world: World) -> None:
    tight = settings.model_copy(
        update={"db_pool_size": 2, "db_max_overflow": 0, "db_pool_timeout_seconds": 0.2}
    )
    app = create_app(tight)
    async with serve_in_background(app) as base, httpx.AsyncClient(base_url=base) as http:
        engine = app.state.db.engine
        # Both of the app's connections are held, as by requests stuck behind a slow call.
        async with engine.connect() as one, engine.connect() as two:
            await one.execute(text("SELECT 1"))
            await two.execute(text("SELECT 1"))
            response = await http.get("/api/v1/products", headers=world.users["admin"].headers)
        assert response.status_code == 503
        assert int(response.headers["retry-after"]) > 0
        after = await http.get("/api/v1/products", headers=world.users["admin"].headers)
        assert after.status_code == 200
