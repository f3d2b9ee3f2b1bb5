"""Simulators push correctly signed webhooks, with duplicates, disorder and retries on request."""

import httpx

from integrations.platforms.shopee import ShopeeClient
from integrations.platforms.shopee.parsing import parse_push
from integrations.platforms.tiktok_shop.parsing import parse_webhook
from integrations.platforms.tiktok_shop.signing import verify_webhook
from integrations.simulators.serve import serve_in_background
from integrations.simulators.shopee import ShopeeSimConfig
from integrations.simulators.shopee import create_app as create_shopee_app
from integrations.simulators.tiktok_shop import create_app as create_tiktok_app

from .conftest import Receiver, SimRig

TIKTOK_LINE = {"sku_id": "1729000000000001", "unit_price": 185000, "quantity": 2}
SHOPEE_LINE = {"sku_id": "2600144043:1001", "unit_price": 249000}


async def test_tiktok_push_is_signed_and_verified(tiktok: SimRig) -> None:
    order = await tiktok.control("POST", "/_sim/orders", json={"lines": [TIKTOK_LINE]})
    stats = await tiktok.drain()
    assert tiktok.receiver.rejected == 0
    (raw,) = tiktok.receiver.bodies
    webhook = parse_webhook(raw)
    assert (webhook.order_id, webhook.status, webhook.topic) == (
        order["order_id"],
        "UNPAID",
        "ORDER_STATUS_CHANGE",
    )
    assert stats["webhooks"] == {
        "deliveries": 1,
        "sent": 1,
        "acked": 1,
        "failed": 0,
        "retried": 0,
        "gave_up": 0,
        "pending": 0,
        "waited_s": 0.0,
    }


async def test_verifier_with_the_wrong_secret_answers_401(tiktok: SimRig) -> None:
    wrong = Receiver(lambda _url, raw, auth: verify_webhook("test_key", "other", raw, auth))
    async with serve_in_background(wrong.app) as base:
        config = {"webhook_url": base + "/webhooks/tiktok-shop", "retry": False}
        await tiktok.control("PATCH", "/_sim/config", json=config)
        await tiktok.control("POST", "/_sim/orders", json={"lines": [TIKTOK_LINE]})
        stats = await tiktok.drain()
    assert (wrong.rejected, wrong.bodies) == (1, [])
    assert (stats["webhooks"]["failed"], stats["webhooks"]["gave_up"]) == (1, 1)


async def test_duplicates_carry_the_same_event_and_bytes(tiktok: SimRig) -> None:
    body = {"lines": [TIKTOK_LINE], "duplicates": 2}
    await tiktok.control("POST", "/_sim/orders", json=body)
    stats = await tiktok.drain()
    bodies = tiktok.receiver.bodies
    assert len(bodies) == 3
    assert len(set(bodies)) == 1
    assert len({parse_webhook(raw).event_key for raw in bodies}) == 1
    assert stats["webhooks"]["acked"] == 3


async def test_out_of_order_delivery_sends_delivered_first(tiktok: SimRig) -> None:
    order = await tiktok.control(
        "POST", "/_sim/orders", json={"lines": [TIKTOK_LINE], "push": False}
    )
    change = {"statuses": ["AWAITING_SHIPMENT", "IN_TRANSIT", "DELIVERED"], "delivery": "reversed"}
    result = await tiktok.control("POST", f"/_sim/orders/{order['order_id']}/status", json=change)
    assert result["pushed"] == ["DELIVERED", "IN_TRANSIT", "AWAITING_SHIPMENT"]
    await tiktok.drain()
    received = [parse_webhook(raw) for raw in tiktok.receiver.bodies]
    assert [w.status for w in received] == ["DELIVERED", "IN_TRANSIT", "AWAITING_SHIPMENT"]
    times = [w.update_time or 0 for w in received]
    assert times == sorted(times, reverse=True)  # the receiver sees the newest change first
    assert len({w.event_key for w in received}) == 3


async def test_cancellation_uses_the_webhook_spelling(tiktok: SimRig) -> None:
    order = await tiktok.control(
        "POST", "/_sim/orders", json={"lines": [TIKTOK_LINE], "push": False}
    )
    await tiktok.control(
        "POST", f"/_sim/orders/{order['order_id']}/status", json={"statuses": ["CANCELLED"]}
    )
    await tiktok.drain()
    (raw,) = tiktok.receiver.bodies
    assert b'"order_status":"CANCEL"' in raw
    assert parse_webhook(raw).status == "CANCELLED"


async def test_non_2xx_answers_are_retried_until_acked(tiktok: SimRig) -> None:
    tiktok.receiver.fail_next = 2
    await tiktok.control("POST", "/_sim/orders", json={"lines": [TIKTOK_LINE]})
    stats = await tiktok.drain()
    assert len(tiktok.receiver.bodies) == 1
    assert stats["webhooks"] == {
        "deliveries": 1,
        "sent": 3,
        "acked": 1,
        "failed": 2,
        "retried": 2,
        "gave_up": 0,
        "pending": 0,
        "waited_s": 0.03,
    }


async def test_retries_are_bounded_and_can_be_switched_off(tiktok: SimRig) -> None:
    tiktok.receiver.fail_next = 100
    await tiktok.control("POST", "/_sim/orders", json={"lines": [TIKTOK_LINE]})
    stats = await tiktok.drain()
    assert (stats["webhooks"]["sent"], stats["webhooks"]["gave_up"]) == (3, 1)
    await tiktok.control("PATCH", "/_sim/config", json={"retry": False})
    await tiktok.control("POST", "/_sim/orders", json={"lines": [TIKTOK_LINE]})
    stats = await tiktok.drain()
    assert (stats["webhooks"]["sent"], stats["webhooks"]["gave_up"]) == (4, 2)


async def test_bulk_orders_push_one_webhook_each(tiktok: SimRig) -> None:
    body = {"count": 40, "skus": [TIKTOK_LINE], "then_statuses": ["AWAITING_SHIPMENT"]}
    created = await tiktok.control("POST", "/_sim/bulk-orders", json=body)
    assert created["count"] == 40
    stats = await tiktok.drain()
    assert stats["orders"] == 40
    assert stats["webhooks"]["acked"] == 80
    received = {(w.order_id, w.status) for w in map(parse_webhook, tiktok.receiver.bodies)}
    assert len(received) == 80


async def test_shopee_push_is_signed_over_callback_url(shopee: SimRig) -> None:
    order = await shopee.control(
        "POST", "/_sim/orders", json={"lines": [SHOPEE_LINE], "then_statuses": ["READY_TO_SHIP"]}
    )
    await shopee.drain()
    assert shopee.receiver.rejected == 0
    received = [parse_push(raw) for raw in shopee.receiver.bodies]
    assert {w.status for w in received} == {"UNPAID", "READY_TO_SHIP"}
    assert {w.order_id for w in received} == {order["order_id"]}
    assert received[0].event_key.startswith(f"{order['shop_id']}:{order['order_id']}:")


async def test_shopee_duplicates_and_disorder(shopee: SimRig) -> None:
    body = {
        "lines": [SHOPEE_LINE],
        "then_statuses": ["READY_TO_SHIP", "SHIPPED", "COMPLETED"],
        "delivery": "reversed",
        "duplicates": 1,
    }
    await shopee.control("POST", "/_sim/orders", json=body)
    await shopee.drain()
    received = [parse_push(raw) for raw in shopee.receiver.bodies]
    assert len(received) == 8  # four changes, each delivered twice
    assert len({w.event_key for w in received}) == 4
    first_copy = [w.status for w in received][:1]
    assert first_copy == ["COMPLETED"]


async def test_shopee_verification_push(shopee: SimRig) -> None:
    await shopee.control("POST", "/_sim/verification-push")
    await shopee.drain()
    (raw,) = shopee.receiver.bodies
    assert parse_push(raw).topic == "verification"


async def test_push_without_target_is_refused(tiktok: SimRig) -> None:
    await tiktok.control("PATCH", "/_sim/config", json={"webhook_url": ""})
    response = await tiktok.http.post(
        tiktok.sim_url + "/_sim/orders", json={"lines": [TIKTOK_LINE]}
    )
    assert response.status_code == 409
    stats = await tiktok.control("GET", "/_sim/stats")
    assert stats["orders"] == 0


async def test_tiktok_retries_on_the_platforms_schedule_compressed(
    tiktok: SimRig, http: httpx.AsyncClient
) -> None:
    """Failed on 95bffa4, whose simulator gave a webhook up after 1.75 s (platforms.md §1.5)."""
    async with serve_in_background(create_tiktok_app()) as sim:
        rig = SimRig(sim, http, tiktok.receiver)
        config = await rig.control("GET", "/_sim/config")
        assert (config["backoff_s"], config["time_scale"]) == ([120, 1800, 10800, 43200], 1.0)
        # 12 h of the platform's patience in under half a second of ours.
        patch = {"webhook_url": tiktok.receiver.url, "time_scale": 0.00001}
        await rig.control("PATCH", "/_sim/config", json=patch)
        tiktok.receiver.fail_next = 100
        await rig.control("POST", "/_sim/orders", json={"lines": [TIKTOK_LINE]})
        stats = (await rig.drain())["webhooks"]
    assert (stats["sent"], stats["retried"], stats["gave_up"]) == (5, 4, 1)
    assert stats["waited_s"] == 120 + 1800 + 10800 + 43200


async def test_shopee_keeps_an_undelivered_push_as_lost(
    shopee: SimRig, http: httpx.AsyncClient
) -> None:
    """Shopee's retry schedule is unknown; its lost-push store is documented (§2.1)."""
    async with serve_in_background(create_shopee_app()) as sim:
        rig = SimRig(sim, http, shopee.receiver)
        assert (await rig.control("GET", "/_sim/config"))["backoff_s"] == []
        await rig.control("PATCH", "/_sim/config", json={"webhook_url": shopee.receiver.url})
        shopee.receiver.fail_next = 1
        await rig.control("POST", "/_sim/orders", json={"lines": [SHOPEE_LINE]})
        stats = await rig.drain()
        client = ShopeeClient(
            http, sim, ShopeeSimConfig().partner_id, ShopeeSimConfig().partner_key
        )
        lost = await client.get_lost_push_message()
    assert (stats["webhooks"]["sent"], stats["webhooks"]["gave_up"]) == (1, 1)
    assert len(lost.messages) == 1
