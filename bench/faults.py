"""Fault bench: orders keep flowing through poison input, a killed worker, a hanging carrier and
Redis and PostgreSQL restarts, with no human action.

Real processes on servers the bench owns (`fault_env.py`): `phien api`, two `phien worker`
(started again when one exits, as a restart policy would), the Viettel Post simulator at 100 ms,
and the TikTok Shop simulator pushing every order's webhooks on the platform's own retry
schedule (2 min … 12 h), run a thousand times faster. Orders arrive in waves over two good shops;
1% of the webhooks are poison (a NUL in the order id, a shop id longer than any column, a shop
whose stored token httpx cannot send). The faults come at fixed waves, one at a time.

Reported: every good order stored and booked exactly once, every poison row parked with its
reason, the longest stall of intake outside the faults, and the time each fault took to recover.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

from api.channels.models import ChannelConnection
from api.core.db import Database
from bench.end_to_end import _seed, sim_skus
from bench.env import free_port, process, wait_http, wait_worker
from bench.fault_env import OwnPostgres, OwnRedis, Workers
from integrations.platforms.tiktok_shop import webhook_signature
from integrations.simulators import tiktok_shop as sim
from integrations.simulators._carrier_common import CarrierSimConfig
from integrations.simulators.serve import serve_in_background

SECOND_SHOP = ("7495540735365777508", "ROW_bench_second_shop")
POISON_SHOP = "7000000000000000002"
UNSENDABLE = "tok-Ðêm"  # stored before tokens were checked at the door; httpx cannot send it
TIME_SCALE = 0.001  # the platform's 2 min retry comes after 0.12 s, its 30 min after 1.8 s
WAVES = 20
HANG_S, REDIS_DOWN_S, PG_DOWN_S = 30.0, 3.0, 5.0
# At which wave each fault strikes (the worker is killed halfway through).
SCHEDULE = {
    4: "carrier hangs 30 s",
    7: "Redis restart",
    10: "worker SIGKILL",
    13: "PostgreSQL restart",
}


@dataclass
class Fault:
    """One fault: when it struck and ended, and when progress resumed after it."""

    name: str
    started: float
    ended: float
    recovered_s: float | None = None


@dataclass
class Run:
    """The servers and clients of one run, and what it saw."""

    db_url: str
    api: str
    sim: str
    carrier: str
    http: httpx.AsyncClient
    workers: Workers
    pg: OwnPostgres
    redis: OwnRedis
    t0: float = field(default_factory=time.monotonic)
    samples: list[tuple[float, int, int]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    poison: dict[str, int] = field(default_factory=dict)
    wave: int = 0  # waves sent so far

    def now(self) -> float:
        """Seconds since the run started."""
        return time.monotonic() - self.t0


async def _seed_shops(db_url: str) -> None:
    await _seed(db_url)  # a cooperative, its product and the simulator's default shop
    db = Database(db_url.replace("postgresql://", "postgresql+asyncpg://", 1), pool_size=1)
    config = sim.TikTokShopSimConfig()
    async with db.session() as session:
        for shop_id, cipher, token in ((*SECOND_SHOP, config.access_token),
                                       (POISON_SHOP, "ROW_poison", UNSENDABLE)):  # fmt: skip
            session.add(ChannelConnection(cooperative_id=1, platform="tiktok_shop",
                        shop_id=shop_id, shop_cipher=cipher, access_token=token))  # fmt: skip
        await session.commit()
    await db.dispose()


async def _counts(db_url: str) -> tuple[int, int] | None:
    try:
        conn = await asyncpg.connect(db_url, timeout=2)
    except (OSError, asyncpg.PostgresError):
        return None  # PostgreSQL is down: no sample
    try:
        row = await conn.fetchrow("SELECT count(*), count(*) FILTER (WHERE fulfilment_status"
                                  " = 'handed_off') FROM orders")  # fmt: skip
        return (int(row[0]), int(row[1])) if row else None
    except (OSError, asyncpg.PostgresError):
        return None
    finally:
        await conn.close()


async def _sample(run: Run) -> None:
    while True:
        counts = await _counts(run.db_url)
        if counts is not None:
            run.samples.append((run.now(), *counts))
        await asyncio.sleep(0.5)


def _poison_body(kind: str, n: int) -> bytes:
    shop, order = {"nul": (sim.DEFAULT_SHOP_ID, f"nul-\x00-{n}"), "long": ("9" * 80, f"long-{n}"),
                   "token": (POISON_SHOP, f"tok-{n}")}[kind]  # fmt: skip
    now = int(time.time())
    return json.dumps({"type": 1, "tts_notification_id": f"poison-{kind}-{n}", "shop_id": shop,
                       "timestamp": now, "data": {"order_id": order, "order_status":
                       "AWAITING_SHIPMENT", "is_on_hold_order": False, "update_time": now}},
                      separators=(",", ":")).encode()  # fmt: skip


async def _send_poison(run: Run, kind: str, n: int) -> None:
    config = sim.TikTokShopSimConfig()
    body = _poison_body(kind, n)
    headers = {"Authorization": webhook_signature(config.app_key, config.app_secret, body)}
    for delay in (0.0, 0.12, 1.8, 10.8, 43.2):  # the platform's schedule, compressed as the sim's
        await asyncio.sleep(delay)
        with contextlib.suppress(httpx.HTTPError):
            response = await run.http.post(f"{run.api}/webhooks/tiktok-shop", content=body,
                                           headers=headers)  # fmt: skip
            if response.status_code == 200:
                run.poison[kind] = run.poison.get(kind, 0) + 1
                return


async def _strike(run: Run, name: str) -> None:
    started = run.now()
    if name.startswith("carrier"):
        await run.http.post(f"{run.carrier}/_sim/config", json={"latency_ms": HANG_S * 1000})
        await asyncio.sleep(HANG_S)
        await run.http.post(f"{run.carrier}/_sim/config", json={"latency_ms": 100})
    elif name.startswith("Redis"):
        run.redis.stop()
        await asyncio.sleep(REDIS_DOWN_S)
        run.redis.start()
    elif name.startswith("worker"):
        run.workers.kill(0)
    else:
        await asyncio.to_thread(run.pg.stop)
        await asyncio.sleep(PG_DOWN_S)
        await asyncio.to_thread(run.pg.start)
    run.faults.append(Fault(name, started, run.now()))


async def _faults(run: Run) -> None:
    """Strike each fault at its wave, but only once the one before has recovered (or 90 s)."""
    for wave, name in sorted(SCHEDULE.items()):
        while run.wave < wave:  # noqa: ASYNC110 - a bench polls its counters
            await asyncio.sleep(0.1)
        if run.faults:
            deadline = time.monotonic() + 90
            while _recovery(run, run.faults[-1]) is None and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.5)
        await _strike(run, name)


async def _waves(run: Run, orders: int, wave_s: float) -> list[asyncio.Task[None]]:
    per_wave, poison_n, tasks = orders // WAVES, 0, []
    poison_total = max(3, orders // 100)
    faults = asyncio.create_task(_faults(run))
    for wave in range(WAVES):
        # Never run ahead of the faults: each one needs orders still arriving after it.
        while sum(1 for w in SCHEDULE if w < wave) > len(run.faults):  # noqa: ASYNC110
            await asyncio.sleep(0.2)
        for shop_id, _ in ((sim.DEFAULT_SHOP_ID, None), SECOND_SHOP):
            count = per_wave // 2
            body = {"count": count, "skus": sim_skus(), "shop_id": shop_id, "max_lines": 2,
                    "status": "AWAITING_SHIPMENT", "seed": wave, "push": True}  # fmt: skip
            (await run.http.post(f"{run.sim}/_sim/bulk-orders", json=body)).raise_for_status()
        while poison_n < poison_total * (wave + 1) // WAVES:
            kind = ("nul", "long", "token")[poison_n % 3]
            tasks.append(asyncio.create_task(_send_poison(run, kind, poison_n)))
            poison_n += 1
        run.wave = wave + 1
        await asyncio.sleep(wave_s)
    return [*tasks, faults]


def _recovery(run: Run, fault: Fault) -> float | None:
    """Seconds from the fault's end until stored (or, for the carrier, booked) orders rose."""
    column = 2 if fault.name.startswith("carrier") else 1
    before = [s for s in run.samples if s[0] <= fault.ended]
    after = [s for s in run.samples if s[0] > fault.ended]
    if not before or not after:
        return None
    base = before[-1][column]
    risen = next((s[0] for s in after if s[column] > base), None)
    return None if risen is None else risen - fault.ended


def _longest_stall(run: Run, expected: int) -> float:
    """Longest time intake stood still while orders were pending, outside Redis/PG outages."""
    outages = [(f.started, f.ended + 1.0) for f in run.faults if "restart" in f.name]
    longest, since, last = 0.0, None, -1
    for t, stored, _ in run.samples:
        if stored != last or stored >= expected or any(a <= t <= b for a, b in outages):
            since, last = t, stored
            continue
        longest = max(longest, t - (since or t))
    return longest


async def _settle(run: Run, expected: int, poison: int, limit_s: float) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        counts, parked = await _counts(run.db_url), await _parked(run.db_url)
        if counts and counts == (expected, expected) and sum(parked.values()) >= poison:
            return
        await asyncio.sleep(1.0)


async def _parked(db_url: str) -> dict[str, int]:
    """Parked inbox rows by reason."""
    try:
        conn = await asyncpg.connect(db_url, timeout=2)
    except (OSError, asyncpg.PostgresError):
        return {}
    try:
        rows = await conn.fetch("SELECT coalesce(split_part(last_error, ':', 1), '') AS reason,"
                                " count(*) FROM inbound_events WHERE parked_at IS NOT NULL"
                                " GROUP BY 1")  # fmt: skip
        return {str(r[0]): int(r[1]) for r in rows}
    finally:
        await conn.close()


@dataclass
class FaultResult:
    """What the fault bench measured."""

    expected: int
    stored: int
    distinct: int
    booked: int
    at_carrier: int
    carrier_duplicates: int
    poison_sent: dict[str, int]
    parked: dict[str, int]
    faults: list[Fault]
    longest_stall_s: float
    worker_restarts: int
    seconds: float
    pushes: dict[str, float]


async def _result(run: Run, expected: int) -> FaultResult:
    conn = await asyncpg.connect(run.db_url)
    stored, distinct, booked = await conn.fetchrow(
        "SELECT count(*), count(DISTINCT (shop_id, platform_order_id)), count(*) FILTER"
        " (WHERE fulfilment_status = 'handed_off') FROM orders")  # fmt: skip
    await conn.close()
    bookings = (await run.http.get(f"{run.carrier}/_sim/bookings")).json()
    pushes = (await run.http.get(f"{run.sim}/_sim/stats")).json()["webhooks"]
    for fault in run.faults:
        fault.recovered_s = _recovery(run, fault)
    return FaultResult(expected, stored, distinct, booked, bookings["total"],
                       bookings["duplicates"], run.poison, await _parked(run.db_url), run.faults,
                       _longest_stall(run, expected), run.workers.restarts, run.now(), pushes)  # fmt: skip


def _env(
    pg: OwnPostgres, redis: OwnRedis, api_port: int, sim_url: str, carrier: str
) -> dict[str, str]:
    config, creds = sim.TikTokShopSimConfig(), CarrierSimConfig()
    return {"DATABASE_URL": pg.url, "REDIS_URL": redis.url, "PORT": str(api_port),
            "LOG_LEVEL": "WARNING", "TIKTOK_SHOP_API_BASE": sim_url,
            "TIKTOK_SHOP_APP_KEY": config.app_key, "TIKTOK_SHOP_APP_SECRET": config.app_secret,
            "DB_POOL_SIZE": "30", "DB_MAX_OVERFLOW": "0", "VIETTEL_POST_API_BASE": carrier,
            "VIETTEL_POST_USERNAME": creds.username, "VIETTEL_POST_PASSWORD": creds.password,
            "VIETTEL_POST_SERVICE_CODE": "VCN"}  # fmt: skip


async def measure(orders: int, wave_s: float, limit_s: float) -> FaultResult:
    """Run the whole fault scenario once over `orders` good orders."""
    pg, redis, logs = OwnPostgres(), OwnRedis(), Path(tempfile.gettempdir())
    await asyncio.to_thread(pg.create)
    redis.start()
    api_port, carrier_port = free_port(), free_port()
    api, carrier = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{carrier_port}"
    config = sim.TikTokShopSimConfig(
        shops={sim.DEFAULT_SHOP_ID: sim.DEFAULT_SHOP_CIPHER, SECOND_SHOP[0]: SECOND_SHOP[1]},
        webhook_url=f"{api}/webhooks/tiktok-shop", push_concurrency=64, push_time_scale=TIME_SCALE,
    )  # fmt: skip
    carrier_args = ["simulate", "carrier", "viettel-post", "--port", str(carrier_port),
                    "--latency-ms", "100", "--webhook-url", "http://127.0.0.1:9/unused"]  # fmt: skip
    try:
        await _seed_shops(pg.url)
        async with serve_in_background(sim.create_app(config)) as sim_url:
            env = _env(pg, redis, api_port, sim_url, carrier)
            with (process(carrier_args, env, logs / "phien-bench-faults-carrier.log"),
                  process(["api"], env, logs / "phien-bench-faults-api.log")):  # fmt: skip
                await wait_http(f"{carrier}/_sim/stats")
                await wait_http(f"{api}/health")
                workers = Workers(2, env, logs)
                try:
                    await wait_worker(redis.url)
                    workers.watch()
                    return await _drive(Run(pg.url, api, sim_url, carrier, httpx.AsyncClient(timeout=30), workers, pg, redis), orders, wave_s, limit_s)  # fmt: skip
                finally:
                    workers.stop()
    finally:
        redis.stop()
        await asyncio.to_thread(pg.destroy)


async def _drive(run: Run, orders: int, wave_s: float, limit_s: float) -> FaultResult:
    expected = WAVES * 2 * ((orders // WAVES) // 2)
    sampler = asyncio.create_task(_sample(run))
    try:
        tasks = await _waves(run, orders, wave_s)
        await asyncio.gather(*tasks)
        await _settle(run, expected, sum(run.poison.values()), limit_s)
        return await _result(run, expected)
    finally:
        sampler.cancel()
        await run.http.aclose()


def report(result: FaultResult) -> None:
    """Print the run as tables."""
    r = result
    print(f"\nFaults ({r.expected} good orders in {WAVES} waves over 2 shops, "
          f"{sum(r.poison_sent.values())} poison webhooks, 2 phien worker, {r.seconds:.0f} s)")  # fmt: skip
    print("| good orders | stored | duplicated | booked | at carrier | carrier duplicates | lost |")
    print("|------------:|-------:|-----------:|-------:|-----------:|-------------------:|-----:|")
    print(f"| {r.expected} | {r.stored} | {r.stored - r.distinct} | {r.booked} | {r.at_carrier} | "
          f"{r.carrier_duplicates} | {r.expected - r.distinct} |")  # fmt: skip
    print(f"poison sent {r.poison_sent}; parked by reason {r.parked}")
    print("| fault | struck at s | lasted s | progress resumed after s |")
    print("|-------|------------:|---------:|-------------------------:|")
    for f in r.faults:
        resumed = "n/a (nothing waiting)" if f.recovered_s is None else f"{f.recovered_s:.1f}"
        print(f"| {f.name} | {f.started:.1f} | {f.ended - f.started:.1f} | {resumed} |")
    print(f"longest intake stall outside Redis/PostgreSQL outages: {r.longest_stall_s:.1f} s; "
          f"worker restarts by the restart policy: {r.worker_restarts}; platform pushes {r.pushes}")  # fmt: skip


def settings_from_env() -> tuple[int, float, float]:
    """BENCH_ORDERS (20,000), BENCH_WAVE_S (seconds between waves), BENCH_LIMIT_S."""
    return (int(os.environ.get("BENCH_ORDERS", "20000")),
            float(os.environ.get("BENCH_WAVE_S", "3")),
            float(os.environ.get("BENCH_LIMIT_S", "900")))  # fmt: skip
