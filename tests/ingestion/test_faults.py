"""Faults: a webhook that arrives while Redis is down is answered 200 and processed later."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from api.core.config import Settings
from api.core.db import Database
from api.main import create_app
from integrations.platforms.tiktok_shop import webhook_signature
from integrations.simulators import tiktok_shop as tiktok_shop_sim
from integrations.simulators.serve import serve_in_background
from tests.factories import World
from tests.ingestion.rig import (
    connect_tiktok_shop,
    line,
    order_by_platform_id,
    place_order,
    run_worker,
)
from tests.private_redis import PrivateRedis


@pytest.fixture
async def api_on_private_redis(
    settings: Settings, private_redis: PrivateRedis
) -> AsyncIterator[str]:
    own = settings.model_copy(
        update={"redis_url": private_redis.url, "inbox_sweep_after_seconds": 0}
    )
    async with serve_in_background(create_app(own)) as base:
        yield base


def _signed_push(settings: Settings, order_id: str, update_time: int) -> tuple[bytes, str]:
    body = json.dumps(
        {"type": 1, "tts_notification_id": f"n-{order_id}", "shop_id": tiktok_shop_sim.DEFAULT_SHOP_ID,
         "timestamp": update_time, "data": {"order_id": order_id, "order_status": "AWAITING_SHIPMENT",
                                            "is_on_hold_order": False, "update_time": update_time}},
        separators=(",", ":"),
    ).encode()  # fmt: skip
    secret = settings.tiktok_shop_app_secret.get_secret_value()
    return body, webhook_signature(settings.tiktok_shop_app_key, secret, body)


async def test_webhook_while_redis_is_down_is_processed_after_it_returns(
    settings: Settings,
    world: World,
    db: Database,
    tiktok_sim: str,
    private_redis: PrivateRedis,
    api_on_private_redis: str,
) -> None:
    await connect_tiktok_shop(db, world.coop_a)
    placed = await place_order(
        tiktok_sim, [line(world.product_a.variants[0].sku)], status="AWAITING_SHIPMENT", push=False
    )
    body, signature = _signed_push(settings, placed["order_id"], placed["update_time"])

    await private_redis.stop()
    # TikTok waits 3 s for the answer, then counts the push as failed: so does this client.
    async with httpx.AsyncClient(base_url=api_on_private_redis, timeout=3) as http:
        response = await http.post(
            "/webhooks/tiktok-shop", content=body, headers={"Authorization": signature}
        )
        assert response.status_code == 200, response.text
        assert (await http.get("/ready")).status_code == 503
    assert await order_by_platform_id(db, placed["order_id"]) is None

    await private_redis.start()  # an empty Redis: the enqueue was lost for good
    own = settings.model_copy(
        update={"redis_url": private_redis.url, "inbox_sweep_after_seconds": 0}
    )
    await run_worker(own)  # its startup sweep finds the unhandled row and enqueues it
    await run_worker(own)
    order = await order_by_platform_id(db, placed["order_id"])
    assert order is not None
    assert order.status == "confirmed"
