"""Direct checkouts created per second through `POST /api/v1/checkout`.

Real processes: one `phien api` and the Stripe simulator (`phien simulate stripe`) answering
every call after 100 ms. Each checkout reserves stock in PostgreSQL, commits, calls Stripe
(Create Checkout Session, with its idempotency key) outside any transaction, and stores the
session. Beside it, in the same run: `GET /health` (the bare server) and the same checkouts
against the simulator answering at once (0 ms), so the 100 ms wait is told apart from our own
cost. Every buyer is a different phone, so no per-buyer rule refuses one. All buyers of one SKU
(a live sale's shared link) queue on that variant's row lock while they reserve; a third run
per level spreads them over ten SKUs.

The API's rate limits are raised for the bench (RATE_LIMIT_PER_ADDRESS and
RATE_LIMIT_CHECKOUT_PER_ADDRESS = 10000000/minute): one loopback address sends everything, and
the public limits (600/min, 20 checkouts/min) would otherwise measure themselves. The limiter
still counts every request in Redis, as in production.
"""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx

from api.catalogue.schemas import ProductCreate
from api.catalogue.service import create_product
from api.cooperatives.schemas import CollectionPoint, CooperativeCreate
from api.cooperatives.service import create_cooperative
from api.core.db import Database
from bench.env import count_rows, free_port, fresh_database, own_redis_db, process, wait_http
from bench.load import LoadResult, build_request, run_load

LOGS = Path(tempfile.gettempdir())
LEVELS = (1, 10, 50)
STOCK = 1_000_000
SIM_KEY = "sk_test_bench_checkout"  # the simulator accepts any sk_test_ key
SIM_WEBHOOK_SECRET = "whsec_bench_checkout"
BENCH_RATE = "10000000/minute"
# Every checkout of one SKU takes that variant's row lock while it reserves; the last run of each
# level spreads the buyers over this many SKUs to show what that lock costs.
SPREAD = 10


@dataclass
class CheckoutRow:
    """One measured line of the table."""

    label: str
    concurrency: int
    result: LoadResult


def _per_level(concurrency: int) -> int:
    # Enough answers at each level for a p99, a few minutes in all on two cores.
    return max(50, min(1000, concurrency * 40))


async def _seed(db_url: str) -> tuple[int, list[int]]:
    """A cooperative with one product in SPREAD sizes, ample stock each; its id and the variants'."""
    db = Database(db_url.replace("postgresql://", "postgresql+asyncpg://", 1), pool_size=1)
    async with db.session() as session:
        coop = await create_cooperative(session, None, CooperativeCreate(
            name="HTX Bình Lư", phone="0912345678",
            address=CollectionPoint(province="Lai Châu", ward="Xã Bình Lư", street="Bản 1")))  # fmt: skip
        assert coop.id is not None
        product = await create_product(session, None, ProductCreate.model_validate(
            {"cooperative_id": coop.id, "name": "Gạo Séng Cù", "category": "rice", "status": "active",
             "variants": [{"sku": f"SENGCU-{n}", "unit_label": f"túi {n} kg", "net_weight_g": 1000 * n,
                           "shipping_weight_g": 1000 * n + 100, "price_vnd": 95000 * n,
                           "stock_on_hand": STOCK} for n in range(1, SPREAD + 1)]}))  # fmt: skip
        await session.commit()
        variant_ids = [v.id for v in product.variants if v.id is not None]
    await db.dispose()
    return coop.id, variant_ids


def checkout_requests(
    base: str, coop: int, variants: list[int], count: int, offset: int
) -> list[bytes]:
    """`count` checkouts of one bag each (the variants in turn), each from a buyer of their own."""
    url = f"{base}/api/v1/checkout"
    requests = []
    for n in range(offset, offset + count):
        body = json.dumps({
            "cooperative_id": coop, "lines": [{"variant_id": variants[n % len(variants)], "quantity": 1}],
            "buyer": {"name": f"Khách {n}", "phone": f"09{n:08d}", "province": "Lai Châu",
                      "ward": "Xã Bình Lư", "street": f"Bản {n % 40 + 1}"}}).encode()  # fmt: skip
        requests.append(build_request("POST", url, body, {"Content-Type": "application/json"}))
    return requests


async def _latency(sim: str, latency_ms: int) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        (await http.patch(f"{sim}/_sim/config", json={"latency_ms": latency_ms})).raise_for_status()


async def measure() -> tuple[list[CheckoutRow], int]:
    """At each concurrency: /health, checkouts with Stripe at 100 ms, then at 0 ms."""
    api_port, sim_port = free_port(), free_port()
    base, sim = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{sim_port}"
    rows: list[CheckoutRow] = []
    async with fresh_database() as db_url, own_redis_db() as redis_url:
        coop, variants = await _seed(db_url)
        env = {"DATABASE_URL": db_url, "REDIS_URL": redis_url, "PORT": str(api_port),
               "LOG_LEVEL": "WARNING", "DB_POOL_SIZE": "20", "DB_MAX_OVERFLOW": "0",
               "STRIPE_API_BASE": sim, "STRIPE_API_KEY": SIM_KEY,
               "STRIPE_WEBHOOK_SECRET": SIM_WEBHOOK_SECRET,
               "RATE_LIMIT_PER_ADDRESS": BENCH_RATE, "RATE_LIMIT_CHECKOUT_PER_ADDRESS": BENCH_RATE}  # fmt: skip
        sim_args = ["simulate", "stripe", "--port", str(sim_port), "--latency-ms", "100",
                    "--webhook-url", "http://127.0.0.1:9/unused"]  # fmt: skip
        with ExitStack() as stack:
            stack.enter_context(process(sim_args, env, LOGS / "phien-bench-stripe.log"))
            stack.enter_context(process(["api"], env, LOGS / "phien-bench-checkout-api.log"))
            await wait_http(f"{base}/health")
            await wait_http(f"{sim}/_sim/stats")
            offset = 0
            # Warm-up: the first requests pay for imports, pools and connections.
            await run_load(base, checkout_requests(base, coop, variants, 20, offset), 4)
            offset += 20
            for level in LEVELS:
                count = _per_level(level)
                health = [build_request("GET", f"{base}/health")] * (count * 4)
                rows.append(CheckoutRow("GET /health", level, await run_load(base, health, level)))
                for latency, products in ((100, 1), (0, 1), (100, SPREAD)):
                    await _latency(sim, latency)
                    bought = variants[:products]
                    requests = checkout_requests(base, coop, bought, count, offset)
                    offset += count
                    label = f"checkout, Stripe {latency} ms" + (
                        f", {products} SKUs" if products > 1 else ""
                    )
                    rows.append(CheckoutRow(label, level, await run_load(base, requests, level)))
        stored = await count_rows(db_url, "orders", "platform = 'direct'")
    return rows, stored


def report(rows: list[CheckoutRow], stored: int) -> None:
    """Print the table."""
    print("\nDirect checkout (`POST /api/v1/checkout`, one `phien api` process, Stripe simulator)")
    print(f"rate limits raised for the bench (RATE_LIMIT_[CHECKOUT_]PER_ADDRESS={BENCH_RATE}); "
          f"load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    print(
        "| endpoint                           | conc. | requests |   req/s |  p50 ms |  p99 ms | statuses        |"
    )
    print(
        "|------------------------------------|------:|---------:|--------:|--------:|--------:|-----------------|"
    )
    for row in rows:
        r = row.result
        statuses = ",".join(f"{k}:{v}" for k, v in sorted(r.statuses.items()))
        print(f"| {row.label:<34} | {row.concurrency:>5} | {r.requests:>8} | {r.rate:>7.1f} "
              f"| {r.percentile(50):>7.1f} | {r.percentile(99):>7.1f} | {statuses:<15} |")  # fmt: skip
    print(f"direct orders stored (warm-up included): {stored}; the 0 ms rows are the same run's "
          "baseline without Stripe's wait, GET /health the bare server's")  # fmt: skip
