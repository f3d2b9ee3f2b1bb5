"""Carrier hand-off: shipments booked per second against the Viettel Post simulator.

Real processes: the simulator (`phien simulate carrier viettel-post`) answers every call after
100 ms; two `phien worker` processes book 5,000 pending shipments written through the outbox.
The second run SIGKILLs one worker halfway: its in-flight bookings must be rescued (the sweeper)
and nothing booked twice. Target (PRODUCT.md): >= 200 bookings/s, exactly 5,000 at the carrier.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import redis.asyncio as aioredis
from sqlalchemy import select, text
from sqlmodel import col

from api.catalogue.schemas import ProductCreate
from api.catalogue.service import create_product
from api.cooperatives.schemas import CollectionPoint, CooperativeCreate
from api.cooperatives.service import create_cooperative
from api.core.db import Database
from api.core.jobs import Job
from api.core.queue import JobQueue, PendingJob
from api.orders.models import Order
from api.shipments.outbox import ensure_shipment
from bench.env import (
    count_rows,
    free_port,
    fresh_database,
    own_redis_db,
    process,
    wait_http,
    wait_worker,
)
from integrations.simulators._carrier_common import CarrierSimConfig

LOGS = Path(tempfile.gettempdir())
CHUNK = 100
OUTBOX_BATCH = 50


@dataclass
class HandoffRun:
    """What one run measured."""

    label: str
    shipments: int
    seconds: float
    booked: int
    at_carrier: int
    duplicates: int
    rejected_duplicates: int
    killed_at: int | None
    load_before: float

    @property
    def rate(self) -> float:
        """Bookings per second, first job sent to last shipment booked."""
        return self.booked / self.seconds if self.seconds else 0.0


_ORDERS_SQL = """
INSERT INTO orders (cooperative_id, platform, shop_id, platform_order_id, platform_status,
    platform_update_time, status, payment_status, fulfilment_status, payment_method, currency,
    total_vnd, shipping_fee_vnd, buyer_id, buyer_name, buyer_phone, ship_province, ship_ward,
    ship_street, ship_full_address)
SELECT :coop, 'tiktok_shop', 'bench', 'BENCH-' || g, 'AWAITING_SHIPMENT', 0, 'confirmed',
    CASE WHEN g % 4 = 0 THEN 'paid' ELSE 'cod_pending' END, 'reserved',
    CASE WHEN g % 4 = 0 THEN 'prepaid' ELSE 'cod' END, 'VND', 215000, 30000, 'buyer-' || g,
    'Nguyễn Thị Hoa', '09' || lpad((g % 100000000)::text, 8, '0'), 'Thành phố Hà Nội',
    'Phường Ba Đình', 'Số ' || g || ' phố Phan Đình Phùng',
    'Số ' || g || ' phố Phan Đình Phùng, Phường Ba Đình, Thành phố Hà Nội'
FROM generate_series(1, :n) g
"""
_LINES_SQL = """
INSERT INTO order_lines (order_id, variant_id, platform_sku_id, seller_sku, name, quantity,
    unit_price_vnd, net_weight_g, reserved_quantity)
SELECT o.id, :variant, 'tt-SENGCU-2KG', 'SENGCU-2KG', 'Gạo Séng Cù túi 2 kg', 1, 185000, 2000, 1
FROM orders o WHERE o.shop_id = 'bench'
"""


_TAG_BATCHES_SQL = """
UPDATE shipments AS s SET handoff_job_id = 'handoffs:bench-' || ((r.n - 1) / :size)
FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM shipments) AS r
WHERE s.id = r.id
"""


def _database(db_url: str) -> Database:
    # No job sender: the bench rings the hand-offs itself once the workers are up.
    return Database(db_url.replace("postgresql://", "postgresql+asyncpg://", 1), pool_size=2)


async def _seed(db_url: str, shipments: int) -> None:
    """Orders as ingestion leaves them (SQL: fast), then their shipments through the outbox."""
    db = _database(db_url)
    async with db.session() as session:
        coop = await create_cooperative(session, None, CooperativeCreate(
            name="HTX Bình Lư", phone="0912345678",
            address=CollectionPoint(province="Lai Châu", ward="Xã Bình Lư", street="Bản 1")))  # fmt: skip
        assert coop.id is not None
        product = await create_product(session, None, ProductCreate.model_validate(
            {"cooperative_id": coop.id, "name": "Gạo Séng Cù", "category": "rice", "status": "active",
             "variants": [{"sku": "SENGCU-2KG", "unit_label": "túi 2 kg", "net_weight_g": 2000,
                           "shipping_weight_g": 2100, "price_vnd": 185000,
                           "stock_on_hand": shipments}]}))  # fmt: skip
        await session.execute(text(_ORDERS_SQL), {"coop": coop.id, "n": shipments})
        await session.execute(text(_LINES_SQL), {"variant": product.variants[0].id})
        await session.commit()
    async with db.session() as session:
        ids = list((await session.execute(select(col(Order.id)).order_by(col(Order.id)))).scalars())
    for start in range(0, len(ids), CHUNK):
        async with db.session() as session:
            orders = await session.execute(
                select(Order).where(col(Order.id).in_(ids[start : start + CHUNK])).with_for_update()
            )
            for order in orders.scalars():
                await ensure_shipment(session, order, source="bench")
            await session.commit()
    async with db.session() as session:
        # Tagged as the intake tags them: the batch job of each outbox commit of 50.
        await session.execute(text(_TAG_BATCHES_SQL), {"size": OUTBOX_BATCH})
        await session.commit()
    await db.dispose()


async def _enqueue_all(redis: aioredis.Redis, db_url: str) -> int:
    """Ring every shipment's hand-off: what the outbox sends after its commits."""
    db = _database(db_url)
    async with db.session() as session:
        rows = await session.execute(text("SELECT id, handoff_job_id FROM shipments ORDER BY id"))
        batches: dict[str, list[int]] = {}
        for shipment_id, job_id in rows:
            batches.setdefault(job_id, []).append(shipment_id)
    await db.dispose()
    queue = JobQueue(redis)
    # As the intake sends them: one job per outbox commit of up to 50 shipments.
    jobs = [PendingJob(Job.HAND_OFF_SHIPMENTS, (ids,), job_id) for job_id, ids in batches.items()]
    for start in range(0, len(jobs), CHUNK):
        await queue.send(jobs[start : start + CHUNK])
    return sum(len(ids) for ids in batches.values())


async def _wait_booked(
    db_url: str, total: int, started: float, limit_s: float, victim: subprocess.Popen[bytes] | None
) -> tuple[float, int, int | None]:
    killed_at: int | None = None
    booked = 0
    while time.monotonic() - started < limit_s:
        booked = await count_rows(db_url, "shipments", "waybill IS NOT NULL")
        if victim is not None and killed_at is None and booked >= total // 2:
            victim.kill()  # SIGKILL: no graceful shutdown, its in-flight bookings cut short
            killed_at = booked
        if booked >= total:
            break
        await asyncio.sleep(0.1)
    return time.monotonic() - started, booked, killed_at


async def run(label: str, shipments: int, workers: int, kill: bool, limit_s: float) -> HandoffRun:
    """Seed, start the simulator and workers, ring every hand-off, wait for the bookings."""
    sim_port = free_port()
    sim_url = f"http://127.0.0.1:{sim_port}"
    creds = CarrierSimConfig()
    async with fresh_database() as db_url, own_redis_db() as redis_url:
        await _seed(db_url, shipments)
        env = {"DATABASE_URL": db_url, "REDIS_URL": redis_url, "LOG_LEVEL": "WARNING",
               "VIETTEL_POST_API_BASE": sim_url, "VIETTEL_POST_USERNAME": creds.username,
               "VIETTEL_POST_PASSWORD": creds.password, "VIETTEL_POST_SERVICE_CODE": "VCN",
               "DB_POOL_SIZE": "30", "DB_MAX_OVERFLOW": "0"}  # fmt: skip
        redis = aioredis.Redis.from_url(redis_url)
        sim_args = ["simulate", "carrier", "viettel-post", "--port", str(sim_port),
                    "--latency-ms", "100", "--webhook-url", "http://127.0.0.1:9/unused"]  # fmt: skip
        with ExitStack() as stack:
            stack.enter_context(process(sim_args, env, LOGS / "phien-bench-carrier.log"))
            await wait_http(f"{sim_url}/_sim/stats")
            load = os.getloadavg()[0]
            procs = [
                stack.enter_context(
                    process(["worker"], env, LOGS / f"phien-bench-handoff-worker-{n}.log")
                )
                for n in range(workers)
            ]
            await wait_worker(redis_url)
            started = time.monotonic()
            await _enqueue_all(redis, db_url)
            seconds, booked, killed_at = await _wait_booked(
                db_url, shipments, started, limit_s, procs[0] if kill else None
            )
            async with httpx.AsyncClient(timeout=60) as http:
                summary = (await http.get(f"{sim_url}/_sim/bookings")).json()
        await redis.aclose()
    return HandoffRun(label, shipments, seconds, booked, summary["total"], summary["duplicates"],
                      summary["duplicate_attempts_rejected"], killed_at, load)  # fmt: skip


async def measure(
    shipments: int = 5_000, workers: int = 2, limit_s: float = 600
) -> list[HandoffRun]:
    """Both runs: undisturbed, then one worker SIGKILLed halfway."""
    return [
        await run("2 workers", shipments, workers, kill=False, limit_s=limit_s),
        await run("2 workers, 1 SIGKILLed halfway", shipments, workers, kill=True, limit_s=limit_s),
    ]


def report(runs: list[HandoffRun]) -> None:
    """Print the runs as a table."""
    print(
        "\nCarrier hand-off (Viettel Post simulator answering in 100 ms, `phien worker` processes)"
    )
    print(
        "| run | shipments | booked | at carrier | duplicates | refused dups | killed at | seconds | bookings/s | load before |"
    )
    print(
        "|-----|----------:|-------:|-----------:|-----------:|-------------:|----------:|--------:|-----------:|------------:|"
    )
    for r in runs:
        killed = "-" if r.killed_at is None else str(r.killed_at)
        print(f"| {r.label} | {r.shipments} | {r.booked} | {r.at_carrier} | {r.duplicates} | "
              f"{r.rejected_duplicates} | {killed} | {r.seconds:.1f} | {r.rate:.0f} | {r.load_before:.2f} |")  # fmt: skip
    print(
        "target >= 200 bookings/s; exactly one booking per shipment at the carrier (duplicates 0)"
    )
