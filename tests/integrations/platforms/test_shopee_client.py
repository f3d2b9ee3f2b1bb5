"""The real Shopee client against the simulator, over loopback HTTP."""

import time
from typing import Any

import pytest

from integrations.platforms.shopee.client import ShopeeClient
from integrations.platforms.types import PlatformAuthError, PlatformError
from integrations.simulators.shopee import DEFAULT_SHOP_ID

from .conftest import SimRig

TOKEN = "sim_access_token"
LINES = [
    {
        "sku_id": "2600144043:1001",
        "seller_sku": "MATONG-500",
        "product_name": "Mật ong rừng chai 500 ml",
        "sku_name": "Chai 500 ml",
        "quantity": 2,
        "unit_price": 249000,
        "original_price": 260000,
    }
]


def client(rig: SimRig, key: str = "test_partner_key") -> ShopeeClient:
    return ShopeeClient(rig.http, rig.sim_url, 2001887, key)


async def create(rig: SimRig, **extra: Any) -> str:
    body = {"lines": LINES, "shipping_fee": 22000, "push": False, **extra}
    order = await rig.control("POST", "/_sim/orders", json=body)
    return str(order["order_id"])


async def test_get_order_detail_converts_floats(shopee: SimRig) -> None:
    order_sn = await create(shopee, is_cod=False, then_statuses=["READY_TO_SHIP"])
    (order,) = await client(shopee).get_order_detail(DEFAULT_SHOP_ID, TOKEN, [order_sn])
    assert (order.order_id, order.shop_id, order.status, order.is_cod) == (
        order_sn,
        str(DEFAULT_SHOP_ID),
        "READY_TO_SHIP",
        False,
    )
    assert (order.total_amount, order.shipping_fee) == (520000, 22000)
    (line,) = order.lines
    assert (line.platform_sku_id, line.quantity, line.unit_price) == ("2600144043:1001", 2, 249000)
    assert (order.address.province, order.address.commune) == ("Thành phố Hà Nội", "Phường Ba Đình")


async def test_wrong_partner_key_gets_error_sign(shopee: SimRig) -> None:
    order_sn = await create(shopee)
    with pytest.raises(PlatformAuthError) as caught:
        await client(shopee, "wrong-key").get_order_detail(DEFAULT_SHOP_ID, TOKEN, [order_sn])
    assert (caught.value.code, caught.value.message) == ("error_sign", "Wrong sign.")


async def test_invalid_access_token_is_an_auth_error(shopee: SimRig) -> None:
    with pytest.raises(PlatformAuthError) as caught:
        await client(shopee).get_order_detail(DEFAULT_SHOP_ID, "expired", ["X"])
    assert caught.value.code == "error_auth"


async def test_order_list_pages_through_the_window(shopee: SimRig) -> None:
    created = [await create(shopee) for _ in range(5)]
    now = int(time.time())
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(10):  # bounded: 5 orders in pages of 2 need exactly 3 calls
        sns, cursor = await client(shopee).get_order_list(
            DEFAULT_SHOP_ID, TOKEN, now - 3600, now + 600, cursor, page_size=2
        )
        seen.extend(sns)
        if cursor is None:
            break
    assert sorted(seen) == sorted(created)


async def test_order_list_window_over_fifteen_days_is_refused_locally(shopee: SimRig) -> None:
    with pytest.raises(ValueError, match="15 days"):
        await client(shopee).get_order_list(DEFAULT_SHOP_ID, TOKEN, 0, 16 * 86400)


async def test_refresh_token_is_single_use(shopee: SimRig) -> None:
    pair = await client(shopee).refresh_token(DEFAULT_SHOP_ID, "sim_refresh_token")
    assert pair.refresh_token != "sim_refresh_token"
    lifetime = pair.access_expires_at.timestamp() - time.time()
    assert 4 * 3600 - 60 < lifetime <= 4 * 3600
    with pytest.raises(PlatformAuthError):
        await client(shopee).refresh_token(DEFAULT_SHOP_ID, "sim_refresh_token")
    second = await client(shopee).refresh_token(DEFAULT_SHOP_ID, pair.refresh_token)
    order_sn = await create(shopee)
    orders = await client(shopee).get_order_detail(DEFAULT_SHOP_ID, second.access_token, [order_sn])
    assert [o.order_id for o in orders] == [order_sn]


async def test_undelivered_pushes_come_back_as_lost_messages(shopee: SimRig) -> None:
    shopee.receiver.fail_next = 3  # the first attempt and both retries fail
    order_sn = await create(shopee, push=True)
    stats = await shopee.drain()
    assert stats["webhooks"]["gave_up"] == 1
    page = await client(shopee).get_lost_push_message()
    (lost,) = page.messages
    assert (lost.webhook.order_id, lost.webhook.status) == (order_sn, "UNPAID")
    assert page.last_message_id is not None
    await client(shopee).confirm_consumed_lost_push_message(page.last_message_id)
    assert (await client(shopee).get_lost_push_message()).messages == ()


async def test_server_errors_are_transient(shopee: SimRig) -> None:
    await shopee.control("POST", "/_sim/faults", json={"fail_next": 1, "status_code": 500})
    with pytest.raises(PlatformError) as caught:
        await client(shopee).get_order_detail(DEFAULT_SHOP_ID, TOKEN, ["X"])
    assert caught.value.transient
    assert caught.value.code == "error_server"
