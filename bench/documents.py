"""The documents of a 500-parcel pickup batch: wall time, pages, bytes and peak memory.

Seeds a fresh database through the real services (a cooperative, its products, 500 + 50 orders
with Vietnamese buyers, their shipments booked as the hand-off job leaves them, two batches filled
by `create_batch`), then writes every document of each batch with `api.batches.printing` (what
`phien batches print` runs): the 50-parcel batch first, as the same-run baseline, then the 500.
Peak resident memory is the process's high-water mark (getrusage) after each document, so it
only grows; the figure that matters is the last. Targets: all documents of the 500-parcel batch
in under 10 s and under 200 MB resident on the two-core machine.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from datetime import time as clock
from pathlib import Path

from sqlalchemy import update
from sqlmodel import col

from api.accounts.models import Role
from api.accounts.schemas import UserCreate
from api.accounts.scope import Actor
from api.accounts.service import create_user
from api.batches import service
from api.batches.printing import Printed, print_batch
from api.catalogue.schemas import ProductCreate
from api.catalogue.service import create_product
from api.cooperatives.schemas import CollectionPoint, CooperativeCreate
from api.cooperatives.service import create_cooperative
from api.core.db import Database
from api.core.localdev import server_urls
from api.documents import sample
from api.orders.models import Order, OrderLine
from api.shipments.models import Shipment
from api.shipments.outbox import ensure_shipment
from bench.env import _BYTECODE, ROOT, fresh_database

SIZES = (50, 500)
CATEGORY = {"CF": "coffee", "GAO": "rice", "MAT": "honey", "TIEU": "other", "BO": "fruit",
            "SAU": "fruit"}  # fmt: skip


@dataclass
class Run:
    """One batch's documents, as written."""

    parcels: int
    batch_id: int = 0
    seed_s: float = 0.0
    wall_s: float = 0.0
    cli_s: float = 0.0
    cli_rss_mb: float = 0.0
    printed: list[Printed] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)

    @property
    def load_s(self) -> float:
        """Reading the sheet from PostgreSQL (once per batch): the wall time not in a document."""
        return self.wall_s - sum(p.seconds for p in self.printed)


def rss_mb() -> float:
    """This process's resident set now (VmRSS), MB."""
    return _status_kb(Path("/proc/self/status").read_text(), "VmRSS") / 1024


def _status_kb(status: str, key: str) -> int:
    line = next(line for line in status.splitlines() if line.startswith(f"{key}:"))
    return int(line.split()[1])


# The CLI's own peak resident set, reported by itself as it exits. Not getrusage/wait4: Linux
# carries a forked child's high-water mark (this bench's, seeding included) across exec.
_CHILD = (
    "import atexit, sys\n"
    "atexit.register(lambda: sys.stderr.write(next(line for line in open('/proc/self/status')"
    " if line.startswith('VmHWM:'))))\n"
    "from workers.cli.main import app\n"
    "app(prog_name='phien')\n"
)


async def _catalogue(db: Database) -> tuple[Actor, int, dict[str, tuple[int, str, int]]]:
    async with db.session() as session:
        admin = await create_user(session, None, UserCreate(
            email=f"bench-{uuid.uuid4().hex[:8]}@bench.phien.vn", role=Role.ADMIN))  # fmt: skip
        coop = await create_cooperative(session, None, CooperativeCreate(
            name="HTX Nông sản Ea Tu", phone="0262381234",
            address=CollectionPoint(province="Đắk Lắk", ward="Xã Xuân Lãnh", street="Thôn 3")))  # fmt: skip
        assert admin.id is not None
        assert coop.id is not None
        variants: dict[str, tuple[int, str, int]] = {}
        for sku, name, grams, _ in sample.PRODUCTS:
            product = await create_product(session, None, ProductCreate.model_validate({
                "cooperative_id": coop.id, "name": name, "category": CATEGORY[sku.split("-")[0]],
                "status": "active", "variants": [{
                    "sku": sku, "unit_label": "gói", "net_weight_g": grams,
                    "shipping_weight_g": grams + 50, "price_vnd": 150_000, "stock_on_hand": 100_000,
                }],
            }))  # fmt: skip
            variant = product.variants[0]
            variants[sku] = (variant.id, name, grams)
        await session.commit()
    return Actor(admin.id, Role.ADMIN, None, None), coop.id, variants


async def _orders(
    db: Database, coop: int, variants: dict[str, tuple[int, str, int]], n: int
) -> None:
    """`n` orders like the sample's parcels, booked with a waybill and a sort code."""
    parcels = list(sample.parcels(n, seed=n))
    for start in range(0, n, 100):
        async with db.session() as session:
            for parcel in parcels[start : start + 100]:
                street, ward, province = parcel.receiver.address_lines
                order = Order(
                    cooperative_id=coop, platform="tiktok_shop", shop_id="bench",
                    platform_order_id=uuid.uuid4().hex[:20], status="confirmed",
                    payment_status="cod_pending" if parcel.cod_vnd else "paid",
                    fulfilment_status="reserved", total_vnd=parcel.cod_vnd or 150_000,
                    buyer_name=parcel.receiver.name, buyer_phone=parcel.receiver.phone,
                    ship_province=province, ship_ward=ward, ship_street=street,
                )  # fmt: skip
                session.add(order)
                await session.flush()
                assert order.id is not None
                for line in parcel.lines:
                    variant_id, name, grams = variants[line.sku]
                    session.add(OrderLine(
                        order_id=order.id, variant_id=variant_id, platform_sku_id=f"tt-{line.sku}",
                        seller_sku=line.sku, name=name, quantity=line.quantity,
                        unit_price_vnd=150_000, net_weight_g=grams, reserved_quantity=line.quantity,
                    ))  # fmt: skip
                await session.flush()
                shipment = await ensure_shipment(session, order)
                assert shipment is not None
                await session.execute(
                    update(Shipment).where(col(Shipment.id) == shipment.id).values(
                        waybill=f"{parcel.waybill}{n}", status="handed_off",
                        sort_code=parcel.sort_code, cod_amount_vnd=parcel.cod_vnd)
                )  # fmt: skip
                order.fulfilment_status = "handed_off"
            await session.commit()


async def _batch(db: Database, admin: Actor, coop: int, day: date) -> int:
    async with db.session() as session:
        batch = await service.create_batch(
            session, admin, cooperative_id=coop, carrier="viettel_post", pickup_date=day,
            window_start=clock(8), window_end=clock(11), fill=True,
        )  # fmt: skip
        await session.commit()
        return batch.id


def _marker(marks: list[float]) -> Callable[[Printed], None]:
    def mark(_: Printed) -> None:
        marks.append(rss_mb())

    return mark


def run_cli(db_url: str, batch_id: int, out: Path) -> tuple[float, float]:
    """`phien batches print` in its own process: wall seconds and that process's peak RSS (MB)."""
    env = {**os.environ, **_BYTECODE, "DATABASE_URL": db_url, "REDIS_URL": server_urls()[1]}
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - our own CLI with fixed arguments
        [sys.executable, "-c", _CHILD, "batches", "print", str(batch_id), "--out", str(out)],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False,
    )  # fmt: skip
    wall = time.perf_counter() - started
    errors = done.stderr.decode()
    if done.returncode:
        raise RuntimeError(f"phien batches print failed: {errors[-2000:]}")
    return wall, _status_kb(errors, "VmHWM") / 1024


async def measure() -> list[Run]:
    """Seed both batches, then print the baseline's documents and the 500-parcel batch's."""
    runs = [Run(n) for n in SIZES]
    async with fresh_database() as url:
        db = Database(url, pool_size=2, max_overflow=0)
        try:
            admin, coop, variants = await _catalogue(db)
            for index, run in enumerate(runs):
                started = time.perf_counter()
                await _orders(db, coop, variants, run.parcels)
                day = date.today() + timedelta(days=1 + index)
                run.batch_id = await _batch(db, admin, coop, day)
                run.seed_s = time.perf_counter() - started
            with tempfile.TemporaryDirectory(prefix="phien-bench-docs-") as out:
                for run in runs:
                    started = time.perf_counter()
                    run.printed = await print_batch(
                        db, run.batch_id, Path(out) / str(run.parcels), actor=admin,
                        each=_marker(run.rss_mb),
                    )  # fmt: skip
                    run.wall_s = time.perf_counter() - started
                for run in runs:
                    run.cli_s, run.cli_rss_mb = await asyncio.to_thread(
                        run_cli, url, run.batch_id, Path(out) / f"cli-{run.parcels}"
                    )
        finally:
            await db.dispose()
    return runs


def report(runs: list[Run]) -> None:
    """A table per document: the baseline beside the 500-parcel batch."""
    base, big = runs
    print(f"\nBatch documents: {big.parcels} parcels beside a {base.parcels}-parcel baseline "
          "(same run, seeded through the services; pages for PDF, data rows for tables)")  # fmt: skip
    print(f"| document                 | {base.parcels:>3} ms | {base.parcels:>3} pages/rows "
          f"| {big.parcels} ms | {big.parcels} pages/rows |  {big.parcels} bytes |  RSS MB now |")  # fmt: skip
    print("|--------------------------|-------:|--------------:|-------:|---------------:|"
          "-----------:|------------:|")  # fmt: skip
    for small, large, rss in zip(base.printed, big.printed, big.rss_mb, strict=True):
        name = f"{large.kind}.{large.ext}"
        print(f"| {name:<24} | {small.seconds * 1000:>6.0f} | {small.count:>13} "
              f"| {large.seconds * 1000:>6.0f} | {large.count:>14} | {large.size:>10,} | {rss:>11.0f} |")  # fmt: skip
    print(f"| {'load_sheet (once)':<24} | {base.load_s * 1000:>6.0f} | {'':>13} "
          f"| {big.load_s * 1000:>6.0f} | {'':>14} | {'':>10} | {'':>11} |")  # fmt: skip
    print(f"| {'all 15 documents (wall)':<24} | {base.wall_s * 1000:>6.0f} | {'':>13} "
          f"| {big.wall_s * 1000:>6.0f} | {'':>14} | {sum(p.size for p in big.printed):>10,} "
          f"| {max(big.rss_mb):>11.0f} |")  # fmt: skip
    print(f"| {'CLI process (wall, RSS)':<24} | {base.cli_s * 1000:>6.0f} | {'':>13} "
          f"| {big.cli_s * 1000:>6.0f} | {'':>14} | {'':>10} | {big.cli_rss_mb:>11.0f} |")  # fmt: skip
    print(f"seeding (through the services, not timed above): {base.seed_s:.1f} s for "
          f"{base.parcels} parcels, {big.seed_s:.1f} s for {big.parcels}; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")  # fmt: skip
    print("RSS MB now: the bench process's resident set after each document (it holds the seeding "
          "too); CLI process: `phien batches print ID --out DIR` as a child, interpreter start to "
          "exit (its imports dominate), with its own peak resident set (VmHWM)")  # fmt: skip
    verdict = "ok" if max(big.wall_s, big.cli_s) < 10 and big.cli_rss_mb < 200 else "OVER"
    print(f"targets: all 15 documents of {big.parcels} parcels < 10 s (sheet load to last byte: "
          f"{big.wall_s:.2f} s; CLI process {big.cli_s:.2f} s) and < 200 MB resident (CLI process "
          f"peak {big.cli_rss_mb:.0f} MB): {verdict}")  # fmt: skip
