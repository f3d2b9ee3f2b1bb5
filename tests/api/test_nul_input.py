"""Found by `make fuzz`: a NUL character in a body or a filter is bad input (422), not a 503."""

from __future__ import annotations

import httpx

from tests.factories import World


async def test_nul_characters_are_refused_as_bad_input(
    world: World, client: httpx.AsyncClient
) -> None:
    headers = world.users["admin"].headers
    product = world.product_a.id
    body = {"sku": "K", "name": "Gạo\x00", "unit_label": "túi", "net_weight_g": 1000,
            "shipping_weight_g": 1100, "price_vnd": 50_000}  # fmt: skip
    response = await client.post(f"/api/v1/products/{product}/variants", json=body, headers=headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "name"]
    for path, name in (("/api/v1/orders", "platform_order_id"), ("/api/v1/shipments", "waybill")):
        found = await client.get(path, params={name: "a\x00b"}, headers=headers)
        assert found.status_code == 422, path
