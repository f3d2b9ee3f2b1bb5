"""SKU mappings stay inside one cooperative; unmapped SKUs come from the connection's orders."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import httpx

from api.core.db import Database
from api.orders.models import Order, OrderLine
from tests.api.channels.conftest import API, Shops

_order_no = itertools.count(1)


def day(n: int) -> datetime:
    """A morning in November 2026, UTC."""
    return datetime(2026, 11, n, 3, 0, tzinfo=UTC)


async def test_map_list_and_delete(client: httpx.AsyncClient, shops: Shops) -> None:
    base, headers = f"{API}/{shops.conn_a}/sku-mappings", shops.world.users["coop_admin"].headers
    variant = shops.world.product_a.variants[0]
    created = await client.post(
        base, json={"platform_sku_id": "1729382256910270", "variant_id": variant.id},
        headers=headers,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    mapping = created.json()
    assert (mapping["variant_sku"], mapping["channel_connection_id"]) == (variant.sku, shops.conn_a)
    listed = (await client.get(base, headers=headers)).json()
    assert (listed["total"], [m["id"] for m in listed["items"]]) == (1, [mapping["id"]])
    # The mapping belongs to connection A: B's path does not know it (and A's admin cannot see B).
    other = await client.delete(f"{API}/{shops.conn_b}/sku-mappings/{mapping['id']}",
                                headers=shops.admin)  # fmt: skip
    assert other.status_code == 404
    assert (await client.delete(f"{base}/{mapping['id']}", headers=headers)).status_code == 204
    assert (await client.delete(f"{base}/{mapping['id']}", headers=headers)).status_code == 404
    assert (await client.get(base, headers=headers)).json()["total"] == 0


async def test_duplicate_platform_sku_is_a_conflict(
    client: httpx.AsyncClient, shops: Shops
) -> None:
    base = f"{API}/{shops.conn_a}/sku-mappings"
    body = {"platform_sku_id": "TT-1", "variant_id": shops.variant("own")}
    assert (await client.post(base, json=body, headers=shops.admin)).status_code == 201
    assert (await client.post(base, json=body, headers=shops.admin)).status_code == 409
    # The same platform SKU on another connection is another shop's SKU: allowed.
    elsewhere = {"platform_sku_id": "TT-1", "variant_id": shops.variant("other")}
    response = await client.post(f"{API}/{shops.conn_b}/sku-mappings", json=elsewhere,
                                 headers=shops.admin)  # fmt: skip
    assert response.status_code == 201


async def test_another_cooperatives_variant_is_refused(
    client: httpx.AsyncClient, shops: Shops
) -> None:
    base = f"{API}/{shops.conn_a}/sku-mappings"
    for variant_id in (shops.variant("other"), 987654321):
        body = {"platform_sku_id": f"TT-{variant_id}", "variant_id": variant_id}
        for role in ("admin", "coop_admin"):
            response = await client.post(base, json=body, headers=shops.world.users[role].headers)
            assert response.status_code == 422, (role, response.text)
            assert response.json()["detail"][0]["loc"] == ["body", "variant_id"]
    bad = await client.post(base, json={"platform_sku_id": "has space", "variant_id": 1},
                            headers=shops.admin)  # fmt: skip
    assert bad.status_code == 422


async def _arrange_order(db: Database, shops: Shops, side: str, placed: datetime,
                 lines: list[tuple[str, str, int, int | None]]) -> None:  # fmt: skip
    """An order of that side's connection with (platform_sku_id, seller_sku, qty, variant) lines."""
    async with db.session() as session:
        order = Order(
            cooperative_id=shops.coop(side),
            channel_connection_id=shops.conn(side),
            platform="tiktok_shop",
            shop_id="shop",
            platform_order_id=f"57665{next(_order_no)}",
            placed_at=placed,
        )
        session.add(order)
        await session.flush()
        assert order.id is not None
        for sku_id, seller_sku, quantity, variant_id in lines:
            session.add(
                OrderLine(order_id=order.id, platform_sku_id=sku_id, seller_sku=seller_sku,
                          name=f"Sản phẩm {sku_id}", quantity=quantity, unit_price_vnd=120000,
                          variant_id=variant_id)
            )  # fmt: skip
        await session.commit()


async def test_unmapped_skus_are_counted_per_platform_sku(
    client: httpx.AsyncClient, shops: Shops, db: Database
) -> None:
    mapped = shops.variant("own")
    await _arrange_order(
        db, shops, "own", day(4), [("X", "st25-5kg", 2, None), ("Y", "OK", 1, mapped)]
    )
    await _arrange_order(db, shops, "own", day(5), [("X", "st25-5kg", 3, None), ("Z", "", 1, None)])
    await _arrange_order(db, shops, "own", day(2), [("Z", "", 4, None)])
    await _arrange_order(db, shops, "other", day(6), [("W", "cafe", 9, None)])
    path = f"{API}/{shops.conn_a}/unmapped-skus"
    body = (await client.get(path, headers=shops.world.users["seller"].headers)).json()
    assert body["total"] == 2
    rows = {r["platform_sku_id"]: r for r in body["items"]}
    assert [r["platform_sku_id"] for r in body["items"]] == ["X", "Z"]  # most recently seen first
    assert (rows["X"]["seller_sku"], rows["X"]["orders"], rows["X"]["units"]) == ("st25-5kg", 2, 5)
    assert (rows["Z"]["orders"], rows["Z"]["units"]) == (2, 5)
    assert rows["X"]["last_seen_at"].startswith("2026-11-05T03:00:00")
    page = (await client.get(f"{path}?limit=1&offset=1", headers=shops.admin)).json()
    assert (page["total"], [r["platform_sku_id"] for r in page["items"]]) == (2, ["Z"])
    # Mapping Z answers it: it leaves the list although its stored lines are not back-filled.
    await client.post(f"{API}/{shops.conn_a}/sku-mappings",
                      json={"platform_sku_id": "Z", "variant_id": mapped}, headers=shops.admin)  # fmt: skip
    after = (await client.get(path, headers=shops.admin)).json()
    assert [r["platform_sku_id"] for r in after["items"]] == ["X"]
