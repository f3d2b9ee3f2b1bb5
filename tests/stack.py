"""The running stack a test asks for: PostgreSQL, Redis, the five simulators and the API.

Where they run: DATABASE_URL / REDIS_URL when set; otherwise the machine's own PostgreSQL and
Redis on 127.0.0.1 when they answer; otherwise the embedded ones under ./var/. PHIEN_TEST_EMBEDDED=1
forces the embedded servers even where the machine has its own.

The stack starts once per test process, on the first test that asks for one of the fixtures
below, so a test that asks for none (the pure ones) starts nothing. Each pytest-xdist worker is a
process of its own: its own throw-away database, Redis database number, simulators and API on free
loopback ports, all dropped or emptied when the worker ends. Every test that asks for a fixture
of the stack starts with empty tables, an empty queue and carriers that booked nothing.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass

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
from integrations.simulators import stripe as stripe_sim_app
from integrations.simulators import tiktok_shop as tiktok_shop_sim
from integrations.simulators import viettel_post as viettel_post_sim_app
from integrations.simulators._carrier_common import CarrierSimConfig
from integrations.simulators.serve import bind_loopback, serve_in_background
from tests.factories import World, build_world

TABLES_KEPT = {"alembic_version"}
# "gw0", "gw1", … under pytest-xdist; "main" for a plain run. The pid keeps two runs apart.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
RUN_OWNER = f"tests-{WORKER}-{os.getpid()}"
# This process's own key: tokens the tests store are ciphertext under it, never under var/'s key.
SECRETS_KEY = Fernet.generate_key().decode()
VIETTEL_POST_SIM = ("/webhooks/carriers/viettel-post", "vtp-sim-webhook-secret-5a9b")
GHN_SIM = ("/webhooks/carriers/ghn", "ghn-sim-path-secret-d41e")
STRIPE_SIM_KEY = "sk_test_phien_tests_3e8a51"
STRIPE_SIM_WEBHOOK_SECRET = "whsec_phien_tests_b0c47f"


@dataclass(frozen=True)
class Stack:
    """One test process's servers and the settings that point at them."""

    settings: Settings
    db: Database
    api_base: str
    tiktok_sim: str
    shopee_sim: str
    viettel_post_sim: str
    ghn_sim: str
    stripe_sim: str

    @property
    def database_url(self) -> str:
        """The throw-away database, migrated to head."""
        assert self.settings.database_url is not None
        return self.settings.database_url

    @property
    def redis_url(self) -> str:
        """The Redis database number this process holds."""
        assert self.settings.redis_url is not None
        return self.settings.redis_url


def carrier_sim_config(api_base: str, path: str, secret: str) -> CarrierSimConfig:
    """A carrier simulator pushing its status webhooks to the API (quick retries for tests)."""
    return CarrierSimConfig(
        username="htx-binh-lu",
        password="vtp-sim-password-3c1d",
        token="ghn-sim-token-8e2f",
        shop_id=885,
        webhook_secret=secret,
        webhook_target_url=f"{api_base}{path}",
        webhook_retry_delay_s=0.05,
        timeout_sleep_s=2.0,
    )


def stripe_sim_config(api_base: str) -> stripe_sim_app.StripeSimConfig:
    """The Stripe simulator, its events aimed at the API's `/webhooks/stripe`.

    Retries run on Stripe's schedule ten thousand times faster; a bank transfer settles only when
    a test says so (`POST /_sim/checkout/sessions/{id}/settle`).
    """
    return stripe_sim_app.StripeSimConfig(
        api_key=STRIPE_SIM_KEY,
        webhook_secret=STRIPE_SIM_WEBHOOK_SECRET,
        webhook_url=f"{api_base}/webhooks/stripe",
        push_time_scale=0.0001,
        async_settle_s=None,
    )


def stack_settings(
    database_url: str,
    redis_url: str,
    tiktok: str,
    shopee: str,
    vtp: str,
    ghn: str,
    stripe: str,
) -> Settings:
    """Settings pointing at the test database, Redis and the simulators."""
    sim_tiktok = tiktok_shop_sim.TikTokShopSimConfig()
    sim_shopee = shopee_sim_app.ShopeeSimConfig()
    carrier = carrier_sim_config("", *VIETTEL_POST_SIM)
    settings = Settings(
        environment="test",
        secrets_keys=SecretStr(SECRETS_KEY),
        database_url=database_url,
        redis_url=redis_url,
        max_body_bytes=200_000,
        # Small idle pools: the xdist workers (and anyone else's runs) share one PostgreSQL's
        # max_connections. The overflow still lets a burst open ten connections at once.
        db_pool_size=2,
        db_max_overflow=8,
        tiktok_shop_api_base=tiktok,
        tiktok_shop_auth_base=tiktok,
        tiktok_shop_app_key=sim_tiktok.app_key,
        tiktok_shop_app_secret=SecretStr(sim_tiktok.app_secret),
        shopee_api_base=shopee,
        shopee_partner_id=sim_shopee.partner_id,
        shopee_partner_key=SecretStr(sim_shopee.partner_key),
        viettel_post_api_base=vtp,
        viettel_post_username=carrier.username,
        viettel_post_password=SecretStr(carrier.password),
        viettel_post_webhook_secret=SecretStr(VIETTEL_POST_SIM[1]),
        ghn_api_base=f"{ghn}/shiip/public-api",
        ghn_token=SecretStr(carrier.token),
        ghn_shop_id=carrier.shop_id,
        ghn_webhook_secret=SecretStr(GHN_SIM[1]),
        stripe_api_base=stripe,
        stripe_api_key=SecretStr(STRIPE_SIM_KEY),
        stripe_webhook_secret=SecretStr(STRIPE_SIM_WEBHOOK_SECRET),
    )
    # Rows arranged straight through the `db` fixture are encrypted with the same keys.
    encryption.configure(settings)
    return settings


@pytest.fixture(scope="session")
async def stack_servers() -> AsyncIterator[Stack]:
    """Start this process's stack once; stop it, drop its database and empty its Redis at the end."""
    pg_base, redis_base = server_urls(embedded=os.environ.get("PHIEN_TEST_EMBEDDED") == "1")
    # The API's socket is bound first so the carrier simulators know where to push.
    api_sock = bind_loopback()
    api_base = f"http://127.0.0.1:{api_sock.getsockname()[1]}"
    async with contextlib.AsyncExitStack() as stack:
        stack.callback(api_sock.close)
        enter = stack.enter_async_context
        database_url = await enter(fresh_database(pg_base, f"phien_test_{WORKER}"))
        redis_url = await enter(own_redis_db(redis_base, RUN_OWNER))
        sims = [
            # The platform's real retry schedule (2 min … 12 h), run ten thousand times faster.
            await enter(serve_in_background(tiktok_shop_sim.create_app(
                tiktok_shop_sim.TikTokShopSimConfig(push_time_scale=0.0001)))),
            await enter(serve_in_background(shopee_sim_app.create_app())),
            await enter(serve_in_background(viettel_post_sim_app.create_app(
                carrier_sim_config(api_base, *VIETTEL_POST_SIM)))),
            await enter(serve_in_background(ghn_sim_app.create_app(
                carrier_sim_config(api_base, *GHN_SIM)))),
            await enter(serve_in_background(stripe_sim_app.create_app(
                stripe_sim_config(api_base)))),
        ]  # fmt: skip
        settings = stack_settings(database_url, redis_url, *sims)
        db = Database(database_url, pool_size=2, max_overflow=8)
        stack.push_async_callback(db.dispose)
        await enter(serve_in_background(create_app(settings), sock=api_sock))
        async with httpx.AsyncClient(timeout=10) as http:
            for sim, path in ((sims[0], "tiktok-shop"), (sims[1], "shopee")):
                hook = {"webhook_url": f"{api_base}/webhooks/{path}"}
                (await http.patch(f"{sim}/_sim/config", json=hook)).raise_for_status()
            # The redirect URL registered for our app, as in TikTok Shop's Partner Center.
            back = {
                "redirect_url": f"{api_base}/api/v1/channel-connections/oauth/tiktok_shop/callback"
            }
            (await http.patch(f"{sims[0]}/_sim/app", json=back)).raise_for_status()
        yield Stack(settings, db, api_base, *sims)


@pytest.fixture
async def clean_stack(stack_servers: Stack) -> Stack:
    """The stack with empty tables, an empty queue and carriers that booked nothing."""
    async with stack_servers.db.engine.begin() as conn:
        names = (
            await conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
        ).scalars()
        tables = [f'"{n}"' for n in names if n not in TABLES_KEPT]
        if tables:
            await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    redis = aioredis.Redis.from_url(stack_servers.redis_url)
    await empty_redis_db(redis, RUN_OWNER)
    await redis.aclose()
    # Order ids restart at 1 in every test, so our references (PHN-<order id>) would collide
    # with the last test's bookings at the (process-long) carrier simulators.
    async with httpx.AsyncClient(timeout=10) as http:
        for sim in (
            stack_servers.viettel_post_sim,
            stack_servers.ghn_sim,
            stack_servers.stripe_sim,
        ):
            (await http.post(f"{sim}/_sim/reset")).raise_for_status()
    return stack_servers


@pytest.fixture
def api_base(clean_stack: Stack) -> str:
    """The real application's base URL on its loopback port."""
    return clean_stack.api_base


@pytest.fixture
def settings(clean_stack: Stack) -> Settings:
    """Settings pointing at the test database, Redis and the simulators."""
    return clean_stack.settings


@pytest.fixture
def db(clean_stack: Stack) -> Database:
    """The test process's own Database (for arranging and asserting)."""
    return clean_stack.db


@pytest.fixture
def database_url(clean_stack: Stack) -> str:
    """The throw-away database, migrated from empty to head."""
    return clean_stack.database_url


@pytest.fixture
def redis_url(clean_stack: Stack) -> str:
    """A Redis database of this process's own, so parallel runs never flush each other's jobs."""
    return clean_stack.redis_url


@pytest.fixture
def tiktok_sim(clean_stack: Stack) -> str:
    """The TikTok Shop simulator, pushing its webhooks to the API."""
    return clean_stack.tiktok_sim


@pytest.fixture
def shopee_sim(clean_stack: Stack) -> str:
    """The Shopee simulator, pushing its webhooks to the API."""
    return clean_stack.shopee_sim


@pytest.fixture
def viettel_post_sim(clean_stack: Stack) -> str:
    """The Viettel Post simulator, pushing status webhooks to the API."""
    return clean_stack.viettel_post_sim


@pytest.fixture
def ghn_sim(clean_stack: Stack) -> str:
    """The GHN simulator, pushing status webhooks to the API (secret in the path)."""
    return clean_stack.ghn_sim


@pytest.fixture
def stripe_sim(clean_stack: Stack) -> str:
    """The Stripe simulator (forgotten sessions, startup config), events to `/webhooks/stripe`.

    `settings.stripe_api_base`/`stripe_api_key`/`stripe_webhook_secret` point at it; drive it
    through `/_sim/...` (see `integrations/simulators/stripe.py`).
    """
    return clean_stack.stripe_sim


@pytest.fixture
async def client(clean_stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the served API."""
    async with httpx.AsyncClient(base_url=clean_stack.api_base, timeout=10) as http:
        yield http


@pytest.fixture
async def world(db: Database) -> World:
    """Two cooperatives in different provinces and a user of every role."""
    return await build_world(db)
