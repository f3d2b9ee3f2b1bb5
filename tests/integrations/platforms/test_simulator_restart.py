"""A simulator started again (restart, or a second `make run` beside the first) over one database.

Our database outlives every simulator process, so a new process must neither repeat an id the
database already holds (webhook event keys, order ids, waybills) nor refuse the shop tokens an
earlier process issued.
"""

import subprocess
import sys

import orjson

from integrations.platforms.shopee.client import ShopeeClient
from integrations.platforms.tiktok_shop.client import TikTokShopClient
from integrations.simulators._carrier_common import CarrierSimConfig, SimState
from integrations.simulators.serve import serve_in_background
from integrations.simulators.shopee import DEFAULT_SHOP_ID as SHOPEE_SHOP
from integrations.simulators.shopee import create_app as create_shopee_app
from integrations.simulators.tiktok_shop import (
    DEFAULT_SHOP_CIPHER,
    DEFAULT_SHOP_ID,
    TikTokShopSimConfig,
    _TikTokPlatform,
)
from integrations.simulators.tiktok_shop import create_app as create_tiktok_app

from .conftest import SHOPEE, TIKTOK, SimRig

LINE = {"sku_id": "1729000000000001", "product_name": "Gạo Séng Cù", "unit_price": 185000}

_ISSUE = """
from integrations.simulators._carrier_common import CarrierSimConfig, SimState
from integrations.simulators.tiktok_shop import TikTokShopSimConfig, _TikTokPlatform
platform = _TikTokPlatform(TikTokShopSimConfig())
state = SimState(CarrierSimConfig())
print(platform.new_order_id(1), platform.new_order_id(2), state.next_number(), state.next_number())
"""


def _issue_in_a_new_process() -> list[str]:
    done = subprocess.run([sys.executable, "-c", _ISSUE], capture_output=True, check=True)  # noqa: S603
    return done.stdout.decode().split()


def test_a_simulator_process_started_later_repeats_no_id() -> None:
    first, second = _issue_in_a_new_process(), _issue_in_a_new_process()
    assert set(first).isdisjoint(second)
    assert all(len(order_id) == 18 and order_id.isdigit() for order_id in first[:2] + second[:2])


async def test_a_restarted_tiktok_simulator_sends_new_notification_and_order_ids(
    tiktok: SimRig,
) -> None:
    ids = []
    for _ in range(2):  # the same config, started afresh each time, as `make run` does
        async with serve_in_background(create_tiktok_app(TIKTOK)) as sim:
            rig = SimRig(sim, tiktok.http, tiktok.receiver)
            await rig.control("PATCH", "/_sim/config", json={"webhook_url": tiktok.receiver.url})
            await rig.control("POST", "/_sim/orders", json={"lines": [LINE], "push": True})
            await rig.drain()
        body = orjson.loads(tiktok.receiver.bodies[-1])
        ids.append((str(body["tts_notification_id"]), str(body["data"]["order_id"])))
    (first_note, first_order), (second_note, second_order) = ids
    assert first_note != second_note
    assert first_order != second_order
    assert len(first_note) == 19
    assert first_note.isdigit()


async def test_a_restarted_shopee_simulator_numbers_orders_anew(shopee: SimRig) -> None:
    numbers = []
    for _ in range(2):
        async with serve_in_background(create_shopee_app(SHOPEE)) as sim:
            rig = SimRig(sim, shopee.http, shopee.receiver)
            order = await rig.control("POST", "/_sim/orders", json={"lines": [LINE], "push": False})
            numbers.append(str(order["order_id"]))
    assert numbers[0] != numbers[1]
    assert all(len(n) == 14 and n.isalnum() for n in numbers)  # like 220810QSK8S7BX


async def test_a_restarted_shopee_simulator_accepts_the_tokens_it_issued_before(
    shopee: SimRig,
) -> None:
    api = ShopeeClient(shopee.http, shopee.sim_url, 2001887, "test_partner_key")
    pair = await api.refresh_token(SHOPEE_SHOP, "sim_refresh_token")
    async with serve_in_background(create_shopee_app(SHOPEE)) as restarted:
        again = ShopeeClient(shopee.http, restarted, 2001887, "test_partner_key")
        order = await SimRig(restarted, shopee.http, shopee.receiver).control(
            "POST", "/_sim/orders", json={"lines": [LINE], "push": False}
        )
        (found,) = await again.get_order_detail(
            SHOPEE_SHOP, pair.access_token, [str(order["order_id"])]
        )
        assert found.order_id == order["order_id"]
        newer = await again.refresh_token(SHOPEE_SHOP, pair.refresh_token)
        assert newer.refresh_token != pair.refresh_token
        await again.get_order_detail(SHOPEE_SHOP, newer.access_token, [found.order_id])


async def test_a_restarted_tiktok_simulator_accepts_the_tokens_it_issued_before(
    tiktok: SimRig,
) -> None:
    first = TikTokShopClient(tiktok.http, tiktok.sim_url, "test_key", "test_secret")
    pair = await first.refresh_token(tiktok.sim_url, "sim_refresh_token")
    async with serve_in_background(create_tiktok_app(TIKTOK)) as restarted:
        again = TikTokShopClient(tiktok.http, restarted, "test_key", "test_secret")
        order = await SimRig(restarted, tiktok.http, tiktok.receiver).control(
            "POST", "/_sim/orders", json={"lines": [LINE], "push": False}
        )
        (found,) = await again.get_orders(
            DEFAULT_SHOP_CIPHER,
            pair.access_token,
            [str(order["order_id"])],
            shop_id=DEFAULT_SHOP_ID,
        )
        assert found.order_id == order["order_id"]
        newer = await again.refresh_token(restarted, pair.refresh_token)
        assert newer.access_token != pair.access_token


def test_an_explicit_id_base_keeps_the_fixed_numbering() -> None:
    platform = _TikTokPlatform(TikTokShopSimConfig(id_base=0))
    assert platform.new_order_id(1) == str(576653688135258178 + 7919)
    state = SimState(CarrierSimConfig(id_base=0))
    assert (state.next_number(), state.next_number()) == (1, 2)
    state.reset()
    assert state.next_number() == 1
