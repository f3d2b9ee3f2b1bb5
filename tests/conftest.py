"""Test harness: a fresh PostgreSQL database migrated to head, a Redis db, the API over HTTP.

Where they run: DATABASE_URL / REDIS_URL when set; otherwise the machine's own PostgreSQL and
Redis on 127.0.0.1 when they answer; otherwise the embedded ones under ./var/. PHIEN_TEST_EMBEDDED=1
forces the embedded servers even where the machine has its own.
"""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import text

from api.core import encryption
from api.core.config import Settings
from api.core.db import Database
from api.core.localdev import empty_redis_db, fresh_database, own_redis_db, server_urls
from api.main import create_app
from integrations.simulators import ghn as ghn_sim_app
from integrations.simulators import shopee as shopee_sim_app
from integrations.simulators import tiktok_shop as tiktok_shop_sim
from integrations.simulators import viettel_post as viettel_post_sim_app
from integrations.simulators._carrier_common import CarrierSimConfig
from integrations.simulators.serve import serve_in_background
from tests.factories import World, build_world

ROOT = Path(__file__).resolve().parents[1]
TABLES_KEPT = {"alembic_version"}
RUN_OWNER = f"tests-{os.getpid()}"
# This run's own key: tokens the tests store are ciphertext under it, never under var/'s key.
SECRETS_KEY = Fernet.generate_key().decode()


def _base_urls() -> tuple[str, str]:
    return server_urls(embedded=os.environ.get("PHIEN_TEST_EMBEDDED") == "1")


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[str]:
    """A throw-away database, migrated from empty to head."""
    base, _ = _base_urls()
    async with fresh_database(base, "phien_test") as url:
        yield url


@pytest.fixture(scope="session")
async def redis_url() -> AsyncIterator[str]:
    """A Redis database of this test run's own, so parallel runs never flush each other's jobs."""
    _, base = _base_urls()
    async with own_redis_db(base, RUN_OWNER) as url:
        yield url


@pytest.fixture(scope="session")
async def tiktok_sim() -> AsyncIterator[str]:
    """The TikTok Shop simulator over loopback HTTP (webhook target set once the API is up)."""
    # The platform's real retry schedule (2 min … 12 h), run ten thousand times faster.
    config = tiktok_shop_sim.TikTokShopSimConfig(push_time_scale=0.0001)
    async with serve_in_background(tiktok_shop_sim.create_app(config)) as base:
        yield base


@pytest.fixture(scope="session")
async def shopee_sim() -> AsyncIterator[str]:
    """The Shopee simulator over loopback HTTP."""
    async with serve_in_background(shopee_sim_app.create_app()) as base:
        yield base


@pytest.fixture(scope="session")
def api_port() -> int:
    """The port the API will listen on, chosen first so carrier simulators can target it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def carrier_sim_config(api_port: int, path: str, secret: str) -> CarrierSimConfig:
    """A carrier simulator pushing its status webhooks to the API (quick retries for tests)."""
    return CarrierSimConfig(
        username="htx-binh-lu",
        password="vtp-sim-password-3c1d",
        token="ghn-sim-token-8e2f",
        shop_id=885,
        webhook_secret=secret,
        webhook_target_url=f"http://127.0.0.1:{api_port}{path}",
        webhook_retry_delay_s=0.05,
        timeout_sleep_s=2.0,
    )


VIETTEL_POST_SIM = ("/webhooks/carriers/viettel-post", "vtp-sim-webhook-secret-5a9b")
GHN_SIM = ("/webhooks/carriers/ghn", "ghn-sim-path-secret-d41e")


@pytest.fixture(scope="session")
async def viettel_post_sim(api_port: int) -> AsyncIterator[str]:
    """The Viettel Post simulator over loopback HTTP, pushing webhooks to the API."""
    config = carrier_sim_config(api_port, *VIETTEL_POST_SIM)
    async with serve_in_background(viettel_post_sim_app.create_app(config)) as base:
        yield base


@pytest.fixture(scope="session")
async def ghn_sim(api_port: int) -> AsyncIterator[str]:
    """The GHN simulator over loopback HTTP, pushing webhooks to the API (secret in the path)."""
    config = carrier_sim_config(api_port, *GHN_SIM)
    async with serve_in_background(ghn_sim_app.create_app(config)) as base:
        yield base


@pytest.fixture(scope="session")
def settings(
    database_url: str,
    redis_url: str,
    tiktok_sim: str,
    shopee_sim: str,
    viettel_post_sim: str,
    ghn_sim: str,
    api_port: int,
) -> Settings:
    """Settings pointing at the test database, Redis and the simulators."""
    sim_tiktok = tiktok_shop_sim.TikTokShopSimConfig()
    sim_shopee = shopee_sim_app.ShopeeSimConfig()
    carrier = carrier_sim_config(api_port, *VIETTEL_POST_SIM)
    settings = Settings(
        environment="test",
        secrets_keys=SecretStr(SECRETS_KEY),
        database_url=database_url,
        redis_url=redis_url,
        max_body_bytes=200_000,
        tiktok_shop_api_base=tiktok_sim,
        tiktok_shop_auth_base=tiktok_sim,
        tiktok_shop_app_key=sim_tiktok.app_key,
        tiktok_shop_app_secret=SecretStr(sim_tiktok.app_secret),
        shopee_api_base=shopee_sim,
        shopee_partner_id=sim_shopee.partner_id,
        shopee_partner_key=SecretStr(sim_shopee.partner_key),
        viettel_post_api_base=viettel_post_sim,
        viettel_post_username=carrier.username,
        viettel_post_password=SecretStr(carrier.password),
        viettel_post_webhook_secret=SecretStr(VIETTEL_POST_SIM[1]),
        ghn_api_base=f"{ghn_sim}/shiip/public-api",
        ghn_token=SecretStr(carrier.token),
        ghn_shop_id=carrier.shop_id,
        ghn_webhook_secret=SecretStr(GHN_SIM[1]),
    )
    # Rows arranged straight through the `db` fixture are encrypted with the same keys.
    encryption.configure(settings)
    return settings


@pytest.fixture(scope="session")
async def db(settings: Settings) -> AsyncIterator[Database]:
    """The test process's own Database (for arranging and asserting)."""
    assert settings.database_url is not None
    database = Database(settings.database_url, pool_size=5, max_overflow=5)
    yield database
    await database.dispose()


@pytest.fixture(scope="session")
async def api_base(
    settings: Settings, tiktok_sim: str, shopee_sim: str, api_port: int
) -> AsyncIterator[str]:
    """The real application served on a loopback port."""
    async with serve_in_background(create_app(settings), port=api_port) as base:
        async with httpx.AsyncClient(timeout=10) as http:
            for sim, path in ((tiktok_sim, "tiktok-shop"), (shopee_sim, "shopee")):
                hook = {"webhook_url": f"{base}/webhooks/{path}"}
                (await http.patch(f"{sim}/_sim/config", json=hook)).raise_for_status()
            # The redirect URL registered for our app, as in TikTok Shop's Partner Center.
            back = {"redirect_url": f"{base}/api/v1/channel-connections/oauth/tiktok_shop/callback"}
            (await http.patch(f"{tiktok_sim}/_sim/app", json=back)).raise_for_status()
        yield base


@pytest.fixture
async def client(api_base: str) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the served API."""
    async with httpx.AsyncClient(base_url=api_base, timeout=10) as http:
        yield http


@pytest.fixture(autouse=True)
async def _clean_state(
    db: Database, redis_url: str, viettel_post_sim: str, ghn_sim: str, api_base: str
) -> None:
    """Every test starts with empty tables, an empty queue and carriers that booked nothing.

    It also depends on `api_base`, so the simulators' webhook targets are always wired,
    whichever test happens to run first.
    """
    async with db.engine.begin() as conn:
        names = (
            await conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
        ).scalars()
        tables = [f'"{n}"' for n in names if n not in TABLES_KEPT]
        if tables:
            await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    redis = aioredis.Redis.from_url(redis_url)
    await empty_redis_db(redis, RUN_OWNER)
    await redis.aclose()
    # Order ids restart at 1 in every test, so our references (PHN-<order id>) would collide
    # with the last test's bookings at the (session-long) carrier simulators.
    async with httpx.AsyncClient(timeout=10) as http:
        for sim in (viettel_post_sim, ghn_sim):
            (await http.post(f"{sim}/_sim/reset")).raise_for_status()


@pytest.fixture
async def world(db: Database) -> World:
    """Two cooperatives in different provinces and a user of every role."""
    return await build_world(db)
