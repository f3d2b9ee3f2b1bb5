"""The real TikTok Shop client against the simulator, over loopback HTTP."""

from typing import Any

import httpx
import pytest

from integrations.platforms.tiktok_shop.client import TikTokShopClient
from integrations.platforms.types import PlatformAuthError, PlatformError
from integrations.simulators.tiktok_shop import DEFAULT_SHOP_CIPHER, DEFAULT_SHOP_ID

from .conftest import SimRig

TOKEN = "sim_access_token"

LINES = [
    {
        "sku_id": "1729000000000001",
        "seller_sku": "SENGCU-5KG",
        "product_name": "Gạo Séng Cù túi 5 kg",
        "sku_name": "Túi 5 kg",
        "quantity": 3,
        "unit_price": 185000,
        "original_price": 200000,
    },
    {"sku_id": "1729000000000002", "product_name": "Chè Shan Tuyết", "unit_price": 120000},
]


def client(rig: SimRig, secret: str = "test_secret") -> TikTokShopClient:
    return TikTokShopClient(rig.http, rig.sim_url, "test_key", secret)


async def create(rig: SimRig, **extra: Any) -> str:
    body = {"lines": LINES, "shipping_fee": 30000, "push": False, **extra}
    order = await rig.control("POST", "/_sim/orders", json=body)
    return str(order["order_id"])


async def test_get_order_detail(tiktok: SimRig) -> None:
    address = {"province": "Lai Châu", "commune": "Xã Bình Lư", "street": "Bản Nà Luồng"}
    order_id = await create(tiktok, address=address, then_statuses=["AWAITING_SHIPMENT"])
    (order,) = await client(tiktok).get_orders(
        DEFAULT_SHOP_CIPHER, TOKEN, [order_id], shop_id=DEFAULT_SHOP_ID
    )
    assert (order.order_id, order.shop_id, order.status) == (
        order_id,
        DEFAULT_SHOP_ID,
        "AWAITING_SHIPMENT",
    )
    assert (order.total_amount, order.shipping_fee, order.is_cod) == (705000, 30000, True)
    units = {line.platform_sku_id: (line.quantity, line.unit_price) for line in order.lines}
    assert units == {"1729000000000001": (3, 185000), "1729000000000002": (1, 120000)}
    assert (order.address.province, order.address.commune) == ("Lai Châu", "Xã Bình Lư")


async def test_more_than_fifty_ids_are_fetched_in_chunks(tiktok: SimRig) -> None:
    body = {"count": 60, "skus": LINES, "push": False, "seed": 1}
    created = await tiktok.control("POST", "/_sim/bulk-orders", json=body)
    ids = list(created["order_ids"])
    orders = await client(tiktok).get_orders(DEFAULT_SHOP_CIPHER, TOKEN, ids, shop_id="s")
    assert sorted(o.order_id for o in orders) == sorted(ids)


async def test_wrong_app_secret_surfaces_the_real_sign_error(tiktok: SimRig) -> None:
    order_id = await create(tiktok)
    with pytest.raises(PlatformAuthError) as caught:
        await client(tiktok, "not-the-secret").get_orders(
            DEFAULT_SHOP_CIPHER, TOKEN, [order_id], shop_id=DEFAULT_SHOP_ID
        )
    assert caught.value.code == "106001"
    assert "sign" in caught.value.message
    assert caught.value.request_id


async def test_unknown_access_token_is_an_auth_error(tiktok: SimRig) -> None:
    order_id = await create(tiktok)
    with pytest.raises(PlatformAuthError) as caught:
        await client(tiktok).get_orders(DEFAULT_SHOP_CIPHER, "stale", [order_id], shop_id="s")
    assert caught.value.code.startswith("105")


async def test_search_paginates_by_update_time(tiktok: SimRig) -> None:
    created = [await create(tiktok) for _ in range(7)]
    seen: list[str] = []
    page_token: str | None = None
    for _ in range(10):  # bounded: 7 orders in pages of 3 need exactly 3 calls
        orders, page_token = await client(tiktok).search_orders(
            DEFAULT_SHOP_CIPHER, TOKEN, 0, page_token, shop_id=DEFAULT_SHOP_ID, page_size=3
        )
        seen.extend(o.order_id for o in orders)
        if page_token is None:
            break
    assert sorted(seen) == sorted(created)
    future, token = await client(tiktok).search_orders(
        DEFAULT_SHOP_CIPHER, TOKEN, 2**31, shop_id=DEFAULT_SHOP_ID
    )
    assert (future, token) == ([], None)


async def test_refresh_token_returns_a_working_pair(tiktok: SimRig) -> None:
    pair = await client(tiktok).refresh_token(tiktok.sim_url, "sim_refresh_token")
    assert pair.access_token != TOKEN
    assert pair.access_expires_at.tzinfo is not None
    assert pair.refresh_expires_at > pair.access_expires_at
    assert "TTP_" not in repr(pair)  # tokens stay out of logs
    order_id = await create(tiktok)
    orders = await client(tiktok).get_orders(
        DEFAULT_SHOP_CIPHER, pair.access_token, [order_id], shop_id=DEFAULT_SHOP_ID
    )
    assert [o.order_id for o in orders] == [order_id]
    with pytest.raises(PlatformAuthError):
        await client(tiktok).refresh_token(tiktok.sim_url, "sim_refresh_token")


async def test_server_errors_are_transient(tiktok: SimRig) -> None:
    order_id = await create(tiktok)
    await tiktok.control("POST", "/_sim/faults", json={"fail_next": 1, "status_code": 503})
    with pytest.raises(PlatformError) as caught:
        await client(tiktok).get_orders(DEFAULT_SHOP_CIPHER, TOKEN, [order_id], shop_id="s")
    assert caught.value.transient
    # The fault was one-shot: the same call now succeeds.
    assert await client(tiktok).get_orders(DEFAULT_SHOP_CIPHER, TOKEN, [order_id], shop_id="s")


async def test_unreachable_host_is_transient(http: httpx.AsyncClient) -> None:
    dead = TikTokShopClient(http, "http://127.0.0.1:9", "k", "s")
    with pytest.raises(PlatformError) as caught:
        await dead.get_orders("cipher", TOKEN, ["1"], shop_id="s")
    assert caught.value.transient
    assert caught.value.code == "network"
