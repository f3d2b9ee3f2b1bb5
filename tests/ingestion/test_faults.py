"""Faults: a webhook that arrives while Redis is down is answered 200 and processed later."""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from api.core.config import Settings
from api.core.db import Database
from api.core.embedded import redis_binary
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


class PrivateRedis:
    """A redis-server of our own on a unix socket, which the test stops and starts.

    A socket file rather than a port: no other test process can take it while it is down.
    """

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.workdir / 'redis.sock'}"

    async def start(self) -> None:
        args = [str(redis_binary()), "--port", "0", "--unixsocket", str(self.workdir / "redis.sock"),
                "--save", "", "--appendonly", "no", "--dir", str(self.workdir)]  # fmt: skip
        self.process = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.PIPE)
        # redis-server logs "…ready to accept connections at <socket>" once it does: wait for
        # that line rather than poll on a clock (bounded, should the binary never say it).
        await asyncio.wait_for(self._ready(self.process), timeout=30)

    @staticmethod
    async def _ready(process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        async for log_line in process.stdout:
            if b"ready to accept connections" in log_line.lower():
                return
        raise RuntimeError(f"redis-server exited with {await process.wait()}")

    async def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            await self.process.wait()
            self.process = None


@pytest.fixture
async def private_redis() -> AsyncIterator[PrivateRedis]:
    # A short directory of its own: a unix socket path must stay under 108 bytes.
    workdir = Path(tempfile.mkdtemp(prefix="phien-redis-"))
    server = PrivateRedis(workdir)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


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
