"""The check's traffic: orders held by the simulator, their signed webhooks through the load
balancer (retried like a platform retries), and a worker and an API replica killed mid-run."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from bench.deploy_check.engine import CheckError, say
from integrations.platforms.tiktok_shop import webhook_signature
from integrations.simulators.tiktok_shop import DEFAULT_SHOP_ID

# Demo catalogue SKUs the simulated buyers order (seller SKU, price), each stocked for the run.
SKUS = [("SENGCU-5KG", 165_000), ("CHE-200G", 150_000), ("MATONG-500", 220_000),
        ("KHOAI-3KG", 60_000)]  # fmt: skip
SENDERS = 16
MAX_TRIES = 40


async def stock_up(base: str, token: str, units: int) -> None:
    """Receive enough stock of the ordered SKUs through the REST API, as an admin would."""
    auth = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=auth, timeout=30) as http:
        response = await http.get("/api/v1/products", params={"limit": 200})
        response.raise_for_status()
        wanted = {sku for sku, _ in SKUS}
        for product in response.json()["items"]:
            for variant in product["variants"]:
                if variant["sku"] not in wanted:
                    continue
                path = (
                    f"/api/v1/products/{product['id']}/variants/{variant['id']}/stock-adjustments"
                )
                body = {"kind": "received", "quantity": units, "reason": "deploy check"}
                (await http.post(path, json=body)).raise_for_status()
                wanted.discard(variant["sku"])
        if wanted:
            raise CheckError(f"demo catalogue lacks {sorted(wanted)}")


async def simulator_orders(sim: str, count: int) -> list[str]:
    """Orders created in the TikTok Shop simulator (it answers the workers' order fetches)."""
    skus = [{"sku_id": f"17290000000000{n}", "seller_sku": sku, "unit_price": price}
            for n, (sku, price) in enumerate(SKUS)]  # fmt: skip
    body = {"count": count, "skus": skus, "status": "AWAITING_SHIPMENT", "max_lines": 2,
            "max_quantity": 3, "seed": 7, "push": False}  # fmt: skip
    async with httpx.AsyncClient(timeout=120) as http:
        response = await http.post(f"{sim}/_sim/bulk-orders", json=body)
        response.raise_for_status()
        ids: list[str] = response.json()["order_ids"]
        return ids


def signed(order_id: str, n: int, app_key: str, app_secret: str) -> tuple[bytes, dict[str, str]]:
    """One order-status webhook, signed as TikTok Shop signs it."""
    now = int(time.time())
    body = json.dumps(
        {"type": 1, "tts_notification_id": f"deploy-{n}-{order_id}", "shop_id": DEFAULT_SHOP_ID,
         "timestamp": now, "data": {"order_id": order_id, "order_status": "AWAITING_SHIPMENT",
                                     "is_on_hold_order": False, "update_time": now}},
        separators=(",", ":"),
    ).encode()  # fmt: skip
    return body, {"Authorization": webhook_signature(app_key, app_secret, body),
                  "Content-Type": "application/json"}  # fmt: skip


@dataclass
class Sent:
    """What sending the webhooks took."""

    acknowledged: int = 0
    refused: int = 0
    retries: int = 0
    answers: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0


async def _send_one(http: httpx.AsyncClient, url: str, hook: tuple[bytes, dict[str, str]],
                    sent: Sent) -> None:  # fmt: skip
    body, headers = hook
    for attempt in range(MAX_TRIES):
        try:
            response = await http.post(url, content=body, headers=headers)
            sent.answers[str(response.status_code)] += 1
            if response.status_code == 200:
                sent.acknowledged += 1
                return
            if response.status_code < 500:
                sent.refused += 1
                return
        except httpx.HTTPError as exc:
            sent.answers[type(exc).__name__] += 1
        sent.retries += 1
        await asyncio.sleep(min(2.0, 0.1 * (attempt + 1)))
    sent.refused += 1


async def send_webhooks(
    url: str,
    hooks: list[tuple[bytes, dict[str, str]]],
    faults: dict[float, Callable[[], None]],
) -> Sent:
    """Send every webhook over SENDERS connections; run each fault when that share is sent."""
    sent = Sent()
    pending = iter(enumerate(hooks))
    due = sorted(faults.items())
    started = time.monotonic()

    async def sender(http: httpx.AsyncClient) -> None:
        for n, hook in pending:
            while due and n >= due[0][0] * len(hooks):
                _, fault = due.pop(0)
                await asyncio.to_thread(fault)
            await _send_one(http, url, hook, sent)

    limits = httpx.Limits(max_connections=SENDERS, max_keepalive_connections=SENDERS)
    async with httpx.AsyncClient(timeout=10, limits=limits) as http:
        await asyncio.gather(*(sender(http) for _ in range(SENDERS)))
    sent.seconds = time.monotonic() - started
    say(f"{sent.acknowledged} webhooks acknowledged in {sent.seconds:.1f} s "
        f"({sent.retries} retries; answers {dict(sent.answers)})")  # fmt: skip
    return sent
