"""End to end: signed webhooks -> orders stored with stock reserved, over 20,000 orders.

Real processes: the TikTok Shop simulator pushes signed webhooks to `phien api`, which stores
and enqueues them; `phien worker` processes fetch each order back from the simulator's order
API and apply it. Target (PRODUCT.md): >= 300 orders/s sustained, 0 lost, 0 duplicated.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import text

from api.catalogue.schemas import ProductCreate
from api.catalogue.service import create_product
from api.channels.models import ChannelConnection
from api.cooperatives.schemas import CollectionPoint, CooperativeCreate
from api.cooperatives.service import create_cooperative
from api.core.db import Database
from bench.env import (
    count_rows,
    free_port,
    fresh_database,
    own_redis_db,
    process,
    scalar,
    wait_http,
    wait_worker,
)
from bench.load import run_load
from bench.webhook_ack import signed_webhooks
from integrations.simulators import tiktok_shop as sim
from integrations.simulators._carrier_common import CarrierSimConfig

SKUS = [("SENGCU-5KG", 185_000, 5000), ("CHE-200G", 120_000, 200), ("MATONG-500", 250_000, 500),
        ("KHOAI-3KG", 95_000, 3000)]  # fmt: skip
STOCK = 1_000_000
# Stored with stock reserved: reserved, or already further along (the outbox may have written
# its pending shipment in the same transaction).
STOCK_HELD = "fulfilment_status NOT IN ('unfulfilled', 'backordered', 'cancelled')"


@dataclass
class EndToEnd:
    """What the run measured."""

    orders: int
    workers: int
    seconds_to_last: float
    stored: int
    reserved: int
    lost: int
    duplicated: int
    units_in_lines: int
    units_reserved: int
    webhooks: dict[str, int]

    @property
    def rate(self) -> float:
        """Orders per second, first webhook to last order stored with stock reserved."""
        return self.reserved / self.seconds_to_last if self.seconds_to_last else 0.0


async def _seed(db_url: str) -> None:
    db = Database(
        db_url.replace("postgresql://", "postgresql+asyncpg://", 1), pool_size=1, max_overflow=0
    )
    async with db.session() as session:
        coop = await create_cooperative(session, None, CooperativeCreate(
            name="HTX Bench", phone="0912345678",
            address=CollectionPoint(province="Lai Châu", ward="Xã Bình Lư", street="Bản 1")))  # fmt: skip
        assert coop.id is not None
        variants = [{"sku": sku, "unit_label": "gói", "net_weight_g": grams, "shipping_weight_g": grams + 100,
                     "price_vnd": price, "stock_on_hand": STOCK} for sku, price, grams in SKUS]  # fmt: skip
        await create_product(session, None, ProductCreate.model_validate(
            {"cooperative_id": coop.id, "name": "Đặc sản Lai Châu", "category": "rice", "status": "active",
             "variants": variants}))  # fmt: skip
        config = sim.TikTokShopSimConfig()
        session.add(ChannelConnection(
            cooperative_id=coop.id, platform="tiktok_shop", shop_id=sim.DEFAULT_SHOP_ID,
            shop_cipher=sim.DEFAULT_SHOP_CIPHER, access_token=config.access_token,
            refresh_token=config.refresh_token))  # fmt: skip
        if os.environ.get("BENCH_WITHOUT_TONNAGE_TRIGGERS") == "1":
            # For an A/B of the report read model's cost on the intake (docs/reports.md).
            for table in ("orders", "order_lines"):
                await session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        await session.commit()
    await db.dispose()


async def wait_for_orders(
    db_url: str, orders: int, limit_s: float, where: str = STOCK_HELD
) -> tuple[float, int]:
    """Poll until `orders` orders match `where`; (seconds waited, how many matched)."""
    started = time.monotonic()
    reserved = 0
    while time.monotonic() - started < limit_s:
        reserved = await count_rows(db_url, "orders", where)
        if reserved >= orders:
            break
        await asyncio.sleep(0.25)
    return time.monotonic() - started, reserved


@dataclass
class Pipeline:
    """A running simulator, API and workers on a fresh database."""

    db_url: str
    sim_url: str
    api_url: str
    http: httpx.AsyncClient
    carrier_url: str
    started: float = 0.0  # when the first webhook was sent


@contextlib.asynccontextmanager
async def pipeline(workers: int, carrier: bool = False) -> AsyncIterator[Pipeline]:
    """Start the TikTok Shop simulator, `phien api` and `workers` x `phien worker` processes.

    With `carrier`, also the Viettel Post simulator (answering in 100 ms), configured for the
    workers: every confirmed order is then booked, as in production. Without it the carrier is
    left unconfigured (hand-off has its own bench) and each shipment is refused at once.
    """
    api_port, sim_port, carrier_port = free_port(), free_port(), free_port()
    api, sim_url = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{sim_port}"
    config = sim.TikTokShopSimConfig()
    logs = Path(tempfile.gettempdir())
    async with fresh_database() as db_url, own_redis_db() as redis_url:
        await _seed(db_url)
        env = {"DATABASE_URL": db_url, "REDIS_URL": redis_url, "PORT": str(api_port), "LOG_LEVEL": "WARNING",
               "TIKTOK_SHOP_API_BASE": sim_url, "TIKTOK_SHOP_APP_KEY": config.app_key,
               "TIKTOK_SHOP_APP_SECRET": config.app_secret, "DB_POOL_SIZE": "30",
               "DB_MAX_OVERFLOW": "0"}  # fmt: skip
        creds = CarrierSimConfig()
        carrier_args = ["simulate", "carrier", "viettel-post", "--port", str(carrier_port),
                        "--latency-ms", "100", "--webhook-url", "http://127.0.0.1:9/unused"]  # fmt: skip
        if carrier:
            env |= {"VIETTEL_POST_API_BASE": f"http://127.0.0.1:{carrier_port}",
                    "VIETTEL_POST_USERNAME": creds.username, "VIETTEL_POST_PASSWORD": creds.password,
                    "VIETTEL_POST_SERVICE_CODE": "VCN"}  # fmt: skip
        sim_args = ["simulate", "tiktok-shop", "--port", str(sim_port), "--push-concurrency", "64",
                    "--webhook-url", f"{api}/webhooks/tiktok-shop"]  # fmt: skip
        with contextlib.ExitStack() as stack:
            if carrier:
                stack.enter_context(process(carrier_args, env, logs / "phien-bench-carrier.log"))
                await wait_http(f"http://127.0.0.1:{carrier_port}/_sim/stats")
            stack.enter_context(process(sim_args, env, logs / "phien-bench-sim.log"))
            stack.enter_context(process(["api"], env, logs / "phien-bench-api.log"))
            await wait_http(f"{sim_url}/_sim/stats")
            await wait_http(f"{api}/health")
            for n in range(workers):
                stack.enter_context(process(["worker"], env, logs / f"phien-bench-worker-{n}.log"))
            await wait_worker(redis_url)
            async with httpx.AsyncClient(timeout=600) as http:
                yield Pipeline(db_url, sim_url, api, http, f"http://127.0.0.1:{carrier_port}")


def sim_skus() -> list[dict[str, object]]:
    """The seeded SKUs as the simulator sells them."""
    return [{"sku_id": f"17290000000000{n}", "seller_sku": sku, "unit_price": price}
            for n, (sku, price, _) in enumerate(SKUS)]  # fmt: skip


async def _ingest(run: Pipeline, orders: int, workers: int, limit_s: float) -> EndToEnd:
    """Send every order's webhook and wait until all are stored with stock reserved."""
    # The simulator holds the orders (its order API answers our workers); the webhooks are
    # sent by this process at full speed, so the figure is ours and not the simulator's push
    # loop. Each is signed exactly as TikTok Shop signs them.
    response = await run.http.post(f"{run.sim_url}/_sim/bulk-orders", json={
        "count": orders, "skus": sim_skus(), "status": "AWAITING_SHIPMENT", "max_lines": 2,
        "max_quantity": 3, "seed": 7, "push": False})  # fmt: skip
    response.raise_for_status()
    config = sim.TikTokShopSimConfig()
    requests = signed_webhooks(
        f"{run.api_url}/webhooks/tiktok-shop", response.json()["order_ids"],
        config.app_key, config.app_secret, "AWAITING_SHIPMENT",
    )  # fmt: skip
    run.started = time.monotonic()
    load, (_, reserved) = await asyncio.gather(
        run_load(run.api_url, requests, 64), wait_for_orders(run.db_url, orders, limit_s)
    )
    elapsed = time.monotonic() - run.started
    hooks = {str(k): v for k, v in load.statuses.items()}
    db_url = run.db_url
    stored = await count_rows(db_url, "orders")
    distinct = await count_rows(
        db_url, "(SELECT DISTINCT platform, shop_id, platform_order_id FROM orders) d"
    )
    units_in_lines = await scalar(db_url, "SELECT coalesce(sum(quantity), 0) FROM order_lines")
    units_reserved = await scalar(db_url, "SELECT coalesce(sum(stock_reserved), 0) FROM variants")
    return EndToEnd(orders, workers, elapsed, stored, reserved, orders - stored, stored - distinct,
                    units_in_lines, units_reserved, hooks)  # fmt: skip


async def measure(orders: int = 20_000, workers: int = 2, limit_s: float = 900) -> EndToEnd:
    """Run the pipeline once over `orders` orders and count what arrived."""
    async with pipeline(workers) as run:
        return await _ingest(run, orders, workers, limit_s)


def report(result: EndToEnd) -> None:
    """Print the run as a table."""
    print(
        f"\nEnd to end ({result.orders} orders, TikTok Shop simulator -> phien api -> {result.workers} phien worker)"
    )
    print(
        "| orders | stored | reserved | lost | duplicated | seconds | orders/s | units in lines | units reserved |"
    )
    print(
        "|-------:|-------:|---------:|-----:|-----------:|--------:|---------:|---------------:|---------------:|"
    )
    print(
        f"| {result.orders} | {result.stored} | {result.reserved} | {result.lost} | {result.duplicated} | "
        f"{result.seconds_to_last:.1f} | {result.rate:.0f} | {result.units_in_lines} | {result.units_reserved} |"
    )
    print(
        f"webhook answers by status: {result.webhooks}; target >= 300 orders/s, 0 lost, 0 duplicated"
    )


@dataclass
class FullPipeline:
    """Webhook to booked parcel, with the Viettel Post simulator answering in 100 ms."""

    end_to_end: EndToEnd
    seconds_to_last_booking: float
    booked: int
    at_carrier: int
    duplicates_at_carrier: int

    @property
    def booking_rate(self) -> float:
        """Parcels booked per second, first webhook to last booking."""
        seconds = self.seconds_to_last_booking
        return self.booked / seconds if seconds else 0.0


async def measure_pipeline(
    orders: int = 20_000, workers: int = 2, limit_s: float = 900
) -> FullPipeline:
    """The same run with the carrier configured: every order is also booked."""
    async with pipeline(workers, carrier=True) as run:
        ingested = await _ingest(run, orders, workers, limit_s)
        _, booked = await wait_for_orders(
            run.db_url, orders, limit_s, where="fulfilment_status = 'handed_off'"
        )
        booked_s = time.monotonic() - run.started
        summary = (await run.http.get(f"{run.carrier_url}/_sim/bookings")).json()
    return FullPipeline(ingested, booked_s, booked, summary["total"], summary["duplicates"])


def report_pipeline(result: FullPipeline) -> None:
    """Print the full-pipeline run as a table."""
    e2e = result.end_to_end
    print(f"\nFull pipeline ({e2e.orders} orders: TikTok Shop simulator -> phien api -> "
          f"{e2e.workers} phien worker -> Viettel Post simulator at 100 ms)")  # fmt: skip
    print(
        "| orders | reserved | orders/s reserved | booked | at carrier | duplicates at carrier | seconds to last booking | bookings/s |"
    )
    print(
        "|-------:|---------:|------------------:|-------:|-----------:|----------------------:|------------------------:|-----------:|"
    )
    print(f"| {e2e.orders} | {e2e.reserved} | {e2e.rate:.0f} | {result.booked} | {result.at_carrier} | "
          f"{result.duplicates_at_carrier} | {result.seconds_to_last_booking:.1f} | {result.booking_rate:.0f} |")  # fmt: skip
    print(f"lost {e2e.lost}, duplicated {e2e.duplicated}; units in lines {e2e.units_in_lines}, "
          f"reserved {e2e.units_reserved}; webhook answers {e2e.webhooks}")  # fmt: skip
