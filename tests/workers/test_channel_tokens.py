"""Token refresh jobs against the TikTok Shop and Shopee simulators over HTTP, on real PostgreSQL.

The job functions get a ctx built by the worker's own `startup`; one test runs them in a real
burst worker. The simulators are wrapped in a request counter: the platform's view of how often
we called it, which is what "refresh once" means for a single-use Shopee refresh token.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from arq import Retry
from arq.worker import Worker, func
from pydantic import SecretStr

from api.accounts.models import Role
from api.accounts.scope import Actor
from api.channels import service
from api.channels.models import ChannelConnection
from api.channels.schemas import ChannelConnectionCreate, ChannelConnectionUpdate
from api.core.config import Settings
from api.core.db import Database, utcnow
from api.core.jobs import Job
from api.core.logging import JsonFormatter
from api.core.queue import QUEUE_NAME
from api.core.serialization import deserialize, serialize
from api.main import open_redis
from integrations.platforms import PlatformAuthError
from integrations.platforms.shopee import ShopeeClient
from integrations.platforms.tiktok_shop import TikTokShopClient
from integrations.simulators.serve import serve_in_background
from integrations.simulators.shopee import DEFAULT_SHOP_ID as SHOPEE_SHOP_ID
from integrations.simulators.shopee import ShopeeSimConfig
from integrations.simulators.shopee import create_app as create_shopee_app
from integrations.simulators.tiktok_shop import DEFAULT_SHOP_CIPHER, TikTokShopSimConfig
from integrations.simulators.tiktok_shop import create_app as create_tiktok_app
from tests.factories import World
from workers.context import shutdown, startup
from workers.jobs.channels import (
    refresh_channel_token,
    refresh_expiring_tokens,
)
from workers.settings import redis_settings

TT_KEY, TT_SECRET = "tt_app_key", "tt_app_secret"
SP_PARTNER, SP_KEY = 2001887, "sp_partner_key"
OLD_ACCESS = "OLD-ACCESS-4c1d"
TT_REFRESH = "TT-REFRESH-live-8e2b"
SP_REFRESH = "SP-REFRESH-live-91fa"
TT_REFRESH_PATH = "/api/v2/token/refresh"
SP_REFRESH_PATH = "/api/v2/auth/access_token/get"


class CountingApp:
    """An ASGI wrapper counting requests per path on their way into a simulator."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.calls: Counter[str] = Counter()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.calls[scope["path"]] += 1
        await self.app(scope, receive, send)


@dataclass
class Platforms:
    """Both simulators, their base URLs and request counters."""

    tiktok: CountingApp
    shopee: CountingApp
    tiktok_url: str
    shopee_url: str


@pytest.fixture
async def platforms() -> AsyncIterator[Platforms]:
    """Fresh simulators per test: each knows exactly one live refresh token."""
    tiktok = CountingApp(
        create_tiktok_app(
            TikTokShopSimConfig(
                app_key=TT_KEY,
                app_secret=TT_SECRET,
                access_token=OLD_ACCESS,
                refresh_token=TT_REFRESH,
            )
        )
    )
    shopee = CountingApp(create_shopee_app(ShopeeSimConfig(
        partner_id=SP_PARTNER, partner_key=SP_KEY, access_token=OLD_ACCESS,
        refresh_token=SP_REFRESH)))  # fmt: skip
    async with serve_in_background(tiktok) as t_url, serve_in_background(shopee) as s_url:
        yield Platforms(tiktok, shopee, t_url, s_url)


@pytest.fixture
def worker_settings(settings: Settings, platforms: Platforms) -> Settings:
    """The test settings pointed at the simulators (model_copy does not validate: SecretStr)."""
    return settings.model_copy(
        update={
            "tiktok_shop_api_base": platforms.tiktok_url,
            "tiktok_shop_auth_base": platforms.tiktok_url,
            "tiktok_shop_app_key": TT_KEY,
            "tiktok_shop_app_secret": SecretStr(TT_SECRET),
            "shopee_api_base": platforms.shopee_url,
            "shopee_partner_id": SP_PARTNER,
            "shopee_partner_key": SecretStr(SP_KEY),
        }
    )


@pytest.fixture
async def ctx(worker_settings: Settings) -> AsyncIterator[dict[str, Any]]:
    """A job context built the way a worker builds it (arq pool, then `startup`)."""
    assert worker_settings.redis_url is not None
    redis = await open_redis(worker_settings.redis_url)
    job_ctx: dict[str, Any] = {"settings": worker_settings, "redis": redis, "job_try": 1}
    await startup(job_ctx)
    yield job_ctx
    await shutdown(job_ctx)
    await redis.aclose()


async def connect(
    db: Database,
    world: World,
    platform: str,
    refresh_token: str | None,
    *,
    expires_in: timedelta | None = timedelta(hours=2),
    refresh_expires_at: datetime | None = None,
    shop_id: str | None = None,
) -> int:
    """A connection of coop A arranged through the service, as an admin would create it."""
    admin = Actor(world.users["admin"].user_id, Role.ADMIN, None, None)
    default_shop = str(SHOPEE_SHOP_ID) if platform == "shopee" else "7495540735365777507"
    data = ChannelConnectionCreate.model_validate({
        "cooperative_id": world.coop_a, "platform": platform, "shop_id": shop_id or default_shop,
        "access_token": OLD_ACCESS, "refresh_token": refresh_token,
        "access_expires_at": utcnow() + expires_in if expires_in else None,
        "refresh_expires_at": refresh_expires_at,
    })  # fmt: skip
    async with db.session() as session:
        created = await service.create_connection(session, admin, data)
        await session.commit()
    return created.id


async def stored(db: Database, connection_id: int) -> ChannelConnection:
    """The connection row as committed."""
    async with db.session() as session:
        connection = await session.get(ChannelConnection, connection_id)
        assert connection is not None
        return connection


def tiktok_client(http: httpx.AsyncClient, platforms: Platforms) -> TikTokShopClient:
    """The production client pointed at the simulator."""
    return TikTokShopClient(http, platforms.tiktok_url, TT_KEY, TT_SECRET)


async def test_tiktok_refresh_persists_both_new_tokens(
    ctx: dict[str, Any], db: Database, world: World, platforms: Platforms
) -> None:
    connection_id = await connect(db, world, "tiktok_shop", TT_REFRESH)
    assert await refresh_channel_token(ctx, connection_id) == "refreshed"
    row = await stored(db, connection_id)
    assert row.access_token not in (None, OLD_ACCESS)
    assert row.refresh_token not in (None, TT_REFRESH)
    assert row.access_expires_at is not None
    assert row.refresh_expires_at is not None
    assert row.access_expires_at > utcnow() + timedelta(days=6)
    assert row.refresh_expires_at > row.access_expires_at
    assert row.status == "active"
    # The stored pair is the live one: the platform takes the access token, and the old refresh
    # token is dead while the stored one still works.
    client = tiktok_client(ctx["http"], platforms)
    assert row.access_token is not None
    assert await client.get_orders(DEFAULT_SHOP_CIPHER, row.access_token, ["1"], shop_id="s") == []
    with pytest.raises(PlatformAuthError):
        await client.refresh_token(platforms.tiktok_url, TT_REFRESH)
    assert row.refresh_token is not None
    await client.refresh_token(platforms.tiktok_url, row.refresh_token)


async def test_shopee_single_use_refresh_token_is_replaced_in_the_same_commit(
    ctx: dict[str, Any], db: Database, world: World, platforms: Platforms
) -> None:
    connection_id = await connect(db, world, "shopee", SP_REFRESH, expires_in=None)
    assert await refresh_channel_token(ctx, connection_id) == "refreshed"
    row = await stored(db, connection_id)
    assert row.access_token not in (None, OLD_ACCESS)
    assert row.refresh_token not in (None, SP_REFRESH)
    assert row.access_expires_at is not None
    assert utcnow() + timedelta(hours=3) < row.access_expires_at < utcnow() + timedelta(hours=5)
    shopee = ShopeeClient(ctx["http"], platforms.shopee_url, SP_PARTNER, SP_KEY)
    with pytest.raises(PlatformAuthError):
        await shopee.refresh_token(SHOPEE_SHOP_ID, SP_REFRESH)
    assert row.refresh_token is not None
    await shopee.refresh_token(SHOPEE_SHOP_ID, row.refresh_token)


async def test_running_twice_calls_the_platform_once(
    ctx: dict[str, Any], db: Database, world: World, platforms: Platforms
) -> None:
    connection_id = await connect(db, world, "tiktok_shop", TT_REFRESH)
    outcomes = [await refresh_channel_token(ctx, connection_id) for _ in range(2)]
    assert outcomes == ["refreshed", "skipped"]
    assert platforms.tiktok.calls[TT_REFRESH_PATH] == 1


async def test_concurrent_refreshes_call_the_platform_once(
    ctx: dict[str, Any], db: Database, world: World, platforms: Platforms
) -> None:
    connection_id = await connect(db, world, "shopee", SP_REFRESH)
    # A slow platform keeps the first refresh inside its transaction while the second arrives.
    async with httpx.AsyncClient() as http:
        await http.patch(f"{platforms.shopee_url}/_sim/config", json={"latency_ms": 300})
    outcomes = await asyncio.gather(
        refresh_channel_token(ctx, connection_id), refresh_channel_token(ctx, connection_id)
    )
    assert sorted(outcomes) == ["refreshed", "skipped"]
    assert platforms.shopee.calls[SP_REFRESH_PATH] == 1
    row = await stored(db, connection_id)
    assert (row.status, row.refresh_token != SP_REFRESH) == ("active", True)


def _our_log_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    formatter = JsonFormatter()
    return [formatter.format(r) for r in caplog.records if r.name.startswith(("api.", "workers."))]


async def test_refused_refresh_token_requires_reauth_and_logs_no_token(
    ctx: dict[str, Any],
    db: Database,
    world: World,
    platforms: Platforms,
    caplog: pytest.LogCaptureFixture,
) -> None:
    revoked = "REVOKED-REFRESH-3f9e"
    connection_id = await connect(db, world, "tiktok_shop", revoked)
    with caplog.at_level(logging.INFO):
        assert await refresh_channel_token(ctx, connection_id) == "reauth_required"
    row = await stored(db, connection_id)
    assert (row.status, row.refresh_token) == ("reauth_required", revoked)
    lines = _our_log_lines(caplog)
    assert any(
        "reconnected" in line and f'"connection_id":{connection_id}' in line for line in lines
    )
    assert not [line for line in lines if revoked in line or OLD_ACCESS in line]
    # A shop waiting for a person is not retried by the sweep.
    assert await refresh_expiring_tokens(ctx) == 0
    assert platforms.tiktok.calls[TT_REFRESH_PATH] == 1


async def test_expired_refresh_token_requires_reauth_without_calling(
    ctx: dict[str, Any], db: Database, world: World, platforms: Platforms
) -> None:
    connection_id = await connect(
        db, world, "tiktok_shop", TT_REFRESH, refresh_expires_at=utcnow() - timedelta(minutes=1)
    )
    assert await refresh_channel_token(ctx, connection_id) == "reauth_required"
    assert (await stored(db, connection_id)).status == "reauth_required"
    assert platforms.tiktok.calls[TT_REFRESH_PATH] == 0


async def test_transient_failure_retries_later_and_changes_nothing(
    ctx: dict[str, Any], db: Database, world: World, platforms: Platforms
) -> None:
    connection_id = await connect(db, world, "tiktok_shop", TT_REFRESH)
    async with httpx.AsyncClient() as http:
        await http.post(f"{platforms.tiktok_url}/_sim/faults",
                        json={"fail_next": 1, "status_code": 503})  # fmt: skip
    with pytest.raises(Retry) as retry:
        await refresh_channel_token({**ctx, "job_try": 2}, connection_id)
    assert retry.value.defer_score == 60_000
    row = await stored(db, connection_id)
    assert (row.access_token, row.refresh_token, row.status) == (OLD_ACCESS, TT_REFRESH, "active")
    assert await refresh_channel_token(ctx, connection_id) == "refreshed"


async def test_sweep_enqueues_one_job_per_due_connection(
    ctx: dict[str, Any], db: Database, world: World
) -> None:
    due = [
        await connect(db, world, "tiktok_shop", TT_REFRESH, shop_id="1001"),
        await connect(db, world, "shopee", SP_REFRESH, expires_in=None, shop_id="1002"),
    ]
    await connect(db, world, "tiktok_shop", "R", expires_in=timedelta(days=3), shop_id="1003")
    await connect(db, world, "tiktok_shop", None, shop_id="1004")  # nothing to refresh with
    await connect(db, world, "facebook", "R", shop_id="1005")  # no refresh API
    disabled = await connect(db, world, "tiktok_shop", "R", shop_id="1006")
    admin = Actor(world.users["admin"].user_id, Role.ADMIN, None, None)
    async with db.session() as session:
        off = ChannelConnectionUpdate(status="disabled")
        await service.update_connection(session, admin, disabled, off)
        await session.commit()
    assert await refresh_expiring_tokens(ctx) == 2
    assert await refresh_expiring_tokens(ctx) == 2  # the second sweep's jobs collapse
    queued = sorted(j.decode() for j in await ctx["redis"].zrange(QUEUE_NAME, 0, -1))
    assert queued == sorted(f"refresh-token:{i}" for i in due)


async def test_sweep_then_a_real_worker_refreshes(
    ctx: dict[str, Any], db: Database, world: World, worker_settings: Settings, platforms: Platforms
) -> None:
    tiktok = await connect(db, world, "tiktok_shop", TT_REFRESH)
    shopee = await connect(db, world, "shopee", SP_REFRESH)
    assert await refresh_expiring_tokens(ctx) == 2
    # The registration the lead adds to workers/settings.py, with the same worker options.
    worker = Worker(
        functions=[func(refresh_channel_token, name=Job.REFRESH_CHANNEL_TOKEN, max_tries=5)],
        queue_name=QUEUE_NAME,
        redis_settings=redis_settings(worker_settings),
        ctx={"settings": worker_settings},
        on_startup=startup,
        on_shutdown=shutdown,
        job_serializer=serialize,
        job_deserializer=deserialize,
        keep_result=0,
        burst=True,
        handle_signals=False,
        poll_delay=0.05,
    )
    await worker.main()
    await worker.close()
    assert (worker.jobs_complete, worker.jobs_failed) == (2, 0)
    assert (await stored(db, tiktok)).refresh_token != TT_REFRESH
    assert (await stored(db, shopee)).refresh_token != SP_REFRESH
    assert (platforms.tiktok.calls[TT_REFRESH_PATH], platforms.shopee.calls[SP_REFRESH_PATH]) == (
        1,
        1,
    )
