"""The worker outlives a Redis restart: real `phien serve` / `phien worker` processes, a real
redis-server of the test's own, stopped and started again (its data lost, as on our machines).

Failed on 95bffa4: the worker inside `phien serve` died with the connection and nothing noticed
(/ready said 200, webhooks after the restart were never handled).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import redis

from api.core.config import Settings
from api.core.db import Database
from api.core.queue import WORKER_POLLED_PREFIX
from tests.factories import World
from tests.ingestion.poison_rig import post_push, tiktok_push
from tests.ingestion.rig import connect_tiktok_shop, line, order_by_platform_id, place_order
from tests.private_redis import PrivateRedis, free_port

PHIEN = str(Path(sys.executable).with_name("phien"))
OUTAGE_S = 3.0


async def _until(check: Callable[[], Awaitable[bool]], what: str, within_s: float = 60) -> None:
    # A bound on a hang, not a timing assertion: each step normally takes a second or two.
    deadline = time.monotonic() + within_s
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        await asyncio.sleep(0.2)


def _env(settings: Settings, redis_url: str, port: int) -> dict[str, str]:
    assert settings.database_url is not None
    return {
        **os.environ,
        "ENVIRONMENT": "test",
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": redis_url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "TIKTOK_SHOP_API_BASE": settings.tiktok_shop_api_base,
        "TIKTOK_SHOP_APP_KEY": settings.tiktok_shop_app_key,
        "TIKTOK_SHOP_APP_SECRET": settings.tiktok_shop_app_secret.get_secret_value(),
        "INBOX_SWEEP_AFTER_SECONDS": "0",
        # The tokens the test stored are encrypted with the test's keys.
        "SECRETS_KEYS": settings.secrets_keys.get_secret_value(),
        # The machine's PostgreSQL is shared by parallel test runs: take few connections.
        "DB_POOL_SIZE": "3",
        "DB_MAX_OVERFLOW": "2",
    }


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603


async def test_serve_outlives_a_redis_restart_and_stops_on_sigterm(
    settings: Settings, world: World, db: Database, tiktok_sim: str,
    private_redis: PrivateRedis, tmp_path: Path,
) -> None:  # fmt: skip
    await connect_tiktok_shop(db, world.coop_a)
    port = free_port()
    env = _env(settings, private_redis.url, port)
    process = _spawn([PHIEN, "serve"], env, tmp_path / "serve.log")
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:

            async def ready(expected: int) -> bool:
                try:
                    return (await http.get("/ready")).status_code == expected
                except httpx.TransportError:
                    return False

            await _until(lambda: ready(200), "serve ready")
            await private_redis.stop()
            await _until(lambda: ready(503), "not ready while Redis is down")
            # The fault itself: an outage of seconds, far longer than the worker's 50 ms poll.
            await asyncio.sleep(OUTAGE_S)
            await private_redis.start()  # empty: every job and mark is gone
            await _until(lambda: ready(200), "ready again: the worker polls again")

            placed = await place_order(
                tiktok_sim, [line(world.product_a.variants[0].sku)], status="UNPAID", push=False
            )
            assert await post_push(http, tiktok_push(settings, placed["order_id"])) == 200

            async def stored() -> bool:
                return await order_by_platform_id(db, placed["order_id"]) is not None

            await _until(stored, "the webhook after the restart handled")
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=40)  # the grace period, not a hang
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode in (0, -signal.SIGTERM), (tmp_path / "serve.log").read_text()


async def test_a_standalone_worker_that_cannot_reach_redis_exits_non_zero(
    settings: Settings, private_redis: PrivateRedis, tmp_path: Path
) -> None:
    # Told to give up at the first failure (by default it rides out 30 s of outage in-process).
    env = _env(settings, private_redis.url, free_port()) | {"WORKER_GIVE_UP_AFTER_SECONDS": "0"}
    process = _spawn([PHIEN, "worker"], env, tmp_path / "worker.log")
    try:
        client = redis.Redis.from_url(private_redis.url)

        async def polled() -> bool:
            return bool(client.keys(WORKER_POLLED_PREFIX + "*"))

        await _until(polled, "the worker marks its polls")
        client.close()
        await private_redis.stop()
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 1, (tmp_path / "worker.log").read_text()
