"""The checkout tests' own API, configured for the Stripe simulator (and the simulator itself).

The shared stack's API has no Stripe account; rather than change it for every test, these tests
start one more API process on the same database and Redis, with STRIPE_* pointing at a Stripe
simulator that signs its webhooks to that API. The carriers stay the stack's.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from pydantic import SecretStr

from api.core.config import Settings
from api.main import create_app
from integrations.simulators import stripe as stripe_sim_app
from integrations.simulators.serve import bind_loopback, serve_in_background
from tests.stack import Stack

SIM = stripe_sim_app.StripeSimConfig()


@dataclass(frozen=True)
class Shop:
    """The checkout API, its settings (with Stripe) and the Stripe simulator."""

    api_base: str
    settings: Settings
    stripe: str


@pytest.fixture(scope="session")
async def shop_servers(stack_servers: Stack) -> AsyncIterator[Shop]:
    """Start the Stripe simulator and an API that uses it, once per test process."""
    api_sock = bind_loopback()
    api_base = f"http://127.0.0.1:{api_sock.getsockname()[1]}"
    async with contextlib.AsyncExitStack() as stack:
        stack.callback(api_sock.close)
        sim_config = stripe_sim_app.StripeSimConfig(
            webhook_url=f"{api_base}/webhooks/stripe", push_time_scale=0.0001
        )
        sim = await stack.enter_async_context(
            serve_in_background(stripe_sim_app.create_app(sim_config))
        )
        settings = stack_servers.settings.model_copy(
            update={
                "stripe_api_key": SecretStr(SIM.api_key),
                "stripe_api_base": sim,
                "stripe_webhook_secret": SecretStr(SIM.webhook_secret),
                "public_base_url": api_base,
            }
        )
        await stack.enter_async_context(serve_in_background(create_app(settings), sock=api_sock))
        yield Shop(api_base, settings, sim)


@pytest.fixture
async def shop(shop_servers: Shop, clean_stack: Stack) -> Shop:
    """The checkout API over empty tables, and a Stripe simulator that forgot everything."""
    async with httpx.AsyncClient(timeout=10) as http:
        (await http.post(f"{shop_servers.stripe}/_sim/reset")).raise_for_status()
    return shop_servers
