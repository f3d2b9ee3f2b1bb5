"""Reconciliation never skips: it pages until done, and runs soon after a platform outage.

Both failed on 95bffa4: the pull stopped after 20 pages of 50 orders and moved its mark to now
anyway; and nothing pulled before the five-minute cron after a platform came back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
import redis.asyncio as aioredis

from api.channels.models import ChannelConnection
from api.core.config import Settings
from api.core.db import Database, utcnow
from api.core.queue import JobQueue
from integrations.simulators import tiktok_shop as tiktok_shop_sim
from integrations.simulators.serve import serve_in_background
from tests.factories import World
from tests.ingestion.poison_rig import make_retries_due, post_push, tiktok_push
from tests.ingestion.rig import (
    connect_tiktok_shop,
    count_orders,
    line,
    order_by_platform_id,
    place_order,
    run_worker,
    sim_post,
)
from workers.jobs.reconcile import reconcile_job


@pytest.fixture
async def own_sim(settings: Settings) -> AsyncIterator[tuple[str, Settings]]:
    """A TikTok Shop simulator of this test's own (no other test's orders in its search)."""
    async with serve_in_background(tiktok_shop_sim.create_app()) as sim:
        own = settings.model_copy(
            update={"tiktok_shop_api_base": sim, "tiktok_shop_auth_base": sim,
                    "inbox_sweep_after_seconds": 0}
        )  # fmt: skip
        yield sim, own


async def test_a_pull_of_more_than_twenty_pages_takes_every_order(
    own_sim: tuple[str, Settings], world: World, db: Database, redis_url: str
) -> None:
    sim, own = own_sim
    connection_id = await connect_tiktok_shop(db, world.coop_a)
    sku = world.product_a.variants[0].sku
    bulk = {"count": 1_060, "skus": [line(sku)], "max_lines": 1, "status": "UNPAID", "push": False}
    await sim_post(sim, "/_sim/bulk-orders", bulk)  # 22 pages of 50, and no webhook at all
    redis = aioredis.Redis.from_url(redis_url)
    await JobQueue(redis).send([reconcile_job(connection_id)])
    await redis.aclose()
    await run_worker(own)
    assert await count_orders(db) == 1_060
    async with db.session() as session:
        connection = await session.get(ChannelConnection, connection_id)
        assert connection is not None
        assert connection.last_reconciled_update_time is not None


async def test_a_platform_answering_again_rings_a_pull_at_once(
    own_sim: tuple[str, Settings], world: World, db: Database, client: httpx.AsyncClient
) -> None:
    sim, own = own_sim
    connection_id = await connect_tiktok_shop(db, world.coop_a)
    # Tokens good for a month: the worker's start-up token refresh must not be the call that
    # meets the one injected failure (then the order fetch would succeed and prove nothing).
    async with db.session() as session:
        connection = await session.get(ChannelConnection, connection_id)
        assert connection is not None
        connection.access_expires_at = utcnow() + timedelta(days=30)
        connection.refresh_expires_at = utcnow() + timedelta(days=365)
        await session.commit()
    sku = world.product_a.variants[0].sku
    told = await place_order(sim, [line(sku)], status="UNPAID", push=False)
    # This one's webhook was lost while the platform was down: only a pull can find it.
    untold = await place_order(sim, [line(sku)], status="UNPAID", push=False)
    await sim_post(sim, "/_sim/faults", {"fail_next": 1, "status_code": 503})
    assert await post_push(client, tiktok_push(own, told["order_id"])) == 200
    await run_worker(own)
    assert await order_by_platform_id(db, told["order_id"]) is None  # the fetch failed

    await make_retries_due(db)
    await run_worker(own)
    assert await order_by_platform_id(db, told["order_id"]) is not None
    assert await order_by_platform_id(db, untold["order_id"]) is not None
