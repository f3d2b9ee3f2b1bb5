"""Webhook acknowledgements per second and latency, beside GET /health in the same run.

Target (PRODUCT.md): >= 3,000 signed TikTok Shop webhooks/s at 64 concurrent senders, p99 <= 50 ms.
Each webhook is unique (its own tts_notification_id), correctly signed, stored and enqueued.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.env import count_rows, free_port, fresh_database, own_redis_db, process, wait_http
from bench.load import LoadResult, build_request, run_load
from integrations.platforms.tiktok_shop import webhook_signature

APP_KEY, APP_SECRET = "bench_app_key", "bench_app_secret"


def signed_webhooks(
    url: str,
    order_ids: Sequence[str],
    app_key: str = APP_KEY,
    app_secret: str = APP_SECRET,
    status: str = "UNPAID",
) -> list[bytes]:
    """One unique, correctly signed order-status webhook per order id."""
    requests = []
    now = int(time.time())
    for n, order_id in enumerate(order_ids):
        body = json.dumps(
            {"type": 1, "tts_notification_id": f"bench-{n}-{order_id}", "shop_id": "7495540735365777507",
             "timestamp": now, "data": {"order_id": order_id, "order_status": status,
                                         "is_on_hold_order": False, "update_time": now}},
            separators=(",", ":"),
        ).encode()  # fmt: skip
        headers = {
            "Authorization": webhook_signature(app_key, app_secret, body),
            "Content-Type": "application/json",
        }
        requests.append(build_request("POST", url, body, headers))
    return requests


async def measure(
    webhooks: int = 30_000, health: int = 20_000, concurrency: int = 64
) -> tuple[dict[str, LoadResult], int]:
    """Start `phien api`, measure /health then webhooks; return both results."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with fresh_database() as db_url, own_redis_db() as redis_url:
        env = {"DATABASE_URL": db_url, "REDIS_URL": redis_url, "PORT": str(port), "LOG_LEVEL": "WARNING",
               "TIKTOK_SHOP_APP_KEY": APP_KEY, "TIKTOK_SHOP_APP_SECRET": APP_SECRET, "DB_POOL_SIZE": "10"}  # fmt: skip
        log = Path(tempfile.gettempdir()) / "phien-bench-api.log"
        with process(["api"], env, log):
            await wait_http(f"{base}/health")
            await run_load(
                base, [build_request("GET", f"{base}/health")] * 2000, concurrency
            )  # warm-up
            health_result = await run_load(
                base, [build_request("GET", f"{base}/health")] * health, concurrency
            )
            ids = [f"57665368813{n:07d}" for n in range(webhooks)]
            hooks = signed_webhooks(f"{base}/webhooks/tiktok-shop", ids)
            webhook_result = await run_load(base, hooks, concurrency)
        stored = await count_rows(db_url, "inbound_events")
    return {"GET /health": health_result, "POST /webhooks/tiktok-shop": webhook_result}, stored
