"""Tonnage reports over 1,000,000 order lines, and a webhook's way to the live counter.

Runs the real processes (`phien api`, `phien worker`, the TikTok Shop simulator) on a fresh
database, loads a programme's year in SQL (bench/reports_data.py), then times
`GET /api/v1/reports/tonnage` per grouping beside `GET /health` in the same run, and the delay
from a signed webhook to the dashboard's live counter endpoint (the page polls it every second).
"""

from __future__ import annotations

import os
import re
import statistics
import time
from dataclasses import dataclass, field

import asyncpg
import httpx

from api.accounts.models import Role
from api.accounts.schemas import UserCreate
from api.accounts.service import create_user, issue_token
from api.core.db import Database
from api.core.localdev import asyncpg_kwargs
from api.web.dashboard_pages import LIVE_POLL_MS
from bench.end_to_end import Pipeline, pipeline, sim_skus
from bench.load import run_load
from bench.reports_data import load
from bench.webhook_ack import signed_webhooks
from integrations.simulators import tiktok_shop as sim

GROUPINGS = [
    "day", "week", "month", "province", "commune", "cooperative", "category", "product",
    "channel", "live_session", "week,province", "month,product", "day,cooperative",
]  # fmt: skip
REQUESTS = 30
TRIALS = 10


@dataclass
class ReportBench:
    """What the run measured (milliseconds unless named otherwise)."""

    lines: int = 0
    load_average: tuple[float, float] = (0.0, 0.0)
    load_s: float = 0.0
    fold_s: float = 0.0
    latencies: dict[str, list[float]] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    counter_delays: list[float] = field(default_factory=list)


def p95(values: list[float]) -> float:
    """95th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


async def _admin_token(db: Database) -> str:
    async with db.session() as session:
        user = await create_user(session, None, UserCreate(email="bench@phien.vn", role=Role.ADMIN))
        assert user.id is not None
        token = await issue_token(session, user.id)
        await session.commit()
    return token


async def _time(
    http: httpx.AsyncClient, url: str, **kwargs: object
) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = await http.get(url, **kwargs)  # type: ignore[arg-type]
    return (time.perf_counter() - started) * 1000, response


async def _reports(run: Pipeline, token: str, result: ReportBench) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    url = f"{run.api_url}/api/v1/reports/tonnage"
    for name in ["GET /health", *GROUPINGS]:
        samples = []
        for n in range(REQUESTS + 3):
            if name == "GET /health":
                ms, response = await _time(run.http, f"{run.api_url}/health")
            else:
                params = {"group_by": name}  # the default page: 100 groups
                ms, response = await _time(run.http, url, params=params, headers=headers)
                result.rows[name] = response.json()["total"]
            response.raise_for_status()
            if n >= 3:  # the first requests warm the caches and the connection pool
                samples.append(ms)
        result.latencies[name] = samples


async def _live_session(db_url: str) -> None:
    conn = await asyncpg.connect(**asyncpg_kwargs(db_url))
    try:
        await conn.execute(
            """
            WITH s AS (
                INSERT INTO live_sessions (cooperative_id, channel_connection_id, platform,
                       shop_id, title, scheduled_start, actual_start, status)
                SELECT cooperative_id, id, platform, shop_id, 'Phiên live bench',
                       now() - interval '1 hour', now() - interval '1 hour', 'live'
                  FROM channel_connections WHERE shop_id = $1
                RETURNING id)
            INSERT INTO live_offers (live_session_id, variant_id, live_price_vnd, units_claimed)
            SELECT s.id, v.id, v.price_vnd, 0 FROM s, variants v WHERE v.sku = 'SENGCU-5KG'
            """,
            sim.DEFAULT_SHOP_ID,
        )
    finally:
        await conn.close()


async def _signed_in(run: Pipeline, token: str) -> httpx.AsyncClient:
    browser = httpx.AsyncClient(base_url=run.api_url, timeout=30)
    page = await browser.get("/sign-in")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    form = {"csrf_token": found.group(1), "token": token, "next": "/dashboard"}
    signed = await browser.post("/sign-in", data=form)
    if signed.status_code != 303:
        raise RuntimeError(f"sign-in answered {signed.status_code}")
    return browser


async def _orders_on_air(browser: httpx.AsyncClient) -> int:
    sessions = (await browser.get("/dashboard/live")).json()["sessions"]
    return int(sessions[0]["orders"]) if sessions else 0


async def _counter(run: Pipeline, token: str, result: ReportBench) -> None:
    await _live_session(run.db_url)
    config = sim.TikTokShopSimConfig()
    browser = await _signed_in(run, token)
    try:
        for trial in range(TRIALS):
            before = await _orders_on_air(browser)
            created = await run.http.post(f"{run.sim_url}/_sim/bulk-orders", json={
                "count": 1, "skus": sim_skus()[:1], "status": "AWAITING_SHIPMENT",
                "max_lines": 1, "max_quantity": 1, "seed": 100 + trial, "push": False})  # fmt: skip
            created.raise_for_status()
            hook = signed_webhooks(f"{run.api_url}/webhooks/tiktok-shop",
                                   created.json()["order_ids"], config.app_key,
                                   config.app_secret, "AWAITING_SHIPMENT")  # fmt: skip
            started = time.perf_counter()
            await run_load(run.api_url, hook, 1)
            while await _orders_on_air(browser) <= before:
                if time.perf_counter() - started > 30:
                    raise RuntimeError("the live counter did not move within 30 s")
            result.counter_delays.append((time.perf_counter() - started) * 1000)
    finally:
        await browser.aclose()


async def measure() -> ReportBench:
    """Load the year, time the reports, then the webhook-to-counter delay."""
    result = ReportBench()
    async with pipeline(workers=1) as run:
        db = Database(run.db_url)
        try:
            result.lines, result.load_s, result.fold_s = await load(run.db_url, db)
            token = await _admin_token(db)
        finally:
            await db.dispose()
        before = os.getloadavg()[0]
        await _reports(run, token, result)
        await _counter(run, token, result)
        result.load_average = (before, os.getloadavg()[0])
    return result


def report(result: ReportBench) -> None:
    """Print the tables."""
    print(f"\nTonnage report over {result.lines:,} order lines (loaded with the triggers on in "
          f"{result.load_s:.0f} s, deltas folded in {result.fold_s:.0f} s); "
          f"{REQUESTS} sequential requests each, no date filter (the whole year), first page "
          f"(100 groups); machine load average {result.load_average[0]:.1f} before, "
          f"{result.load_average[1]:.1f} after (2 cores)")  # fmt: skip
    print("| request                       |  groups | p50 ms | p95 ms |")
    print("|-------------------------------|--------:|-------:|-------:|")
    for name, samples in result.latencies.items():
        groups = str(result.rows.get(name, "")) if name in result.rows else "-"
        print(f"| {name:<29} | {groups:>7} | {statistics.median(samples):>6.1f} "
              f"| {p95(samples):>6.1f} |")  # fmt: skip
    print("target: p95 <= 50 ms for every grouping")
    delays = result.counter_delays
    print(f"\nWebhook -> live counter endpoint ({len(delays)} webhooks): "
          f"p50 {statistics.median(delays):.0f} ms, max {max(delays):.0f} ms; the page polls "
          f"every {LIVE_POLL_MS} ms, so the counter moves within "
          f"{(max(delays) + LIVE_POLL_MS) / 1000:.2f} s at worst (target <= 2 s)")  # fmt: skip
