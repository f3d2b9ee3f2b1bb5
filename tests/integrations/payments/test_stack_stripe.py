"""The test stack's Stripe simulator: the app's settings and `payments_client` reach it."""

from __future__ import annotations

import time

import httpx

from api.core.clients import payments_client
from api.core.config import Settings
from integrations.payments.types import CheckoutLine


async def test_the_stack_points_stripe_at_its_simulator(
    settings: Settings, stripe_sim: str
) -> None:
    assert settings.stripe_api_base == stripe_sim
    payments = payments_client(settings)
    assert payments is not None
    try:
        session = await payments.create_checkout_session(
            lines=[CheckoutLine("Chè Shan Tuyết 200 g", 120_000, 1)],
            client_reference_id="order-1",
            success_url="http://127.0.0.1/done",
            cancel_url="http://127.0.0.1/again",
            expires_at=int(time.time()) + 3600,
            metadata={},
            idempotency_key="stack-1",
        )
    finally:
        await payments.aclose()
    async with httpx.AsyncClient() as http:
        config = (await http.get(f"{stripe_sim}/_sim/config")).json()

    assert session.url is not None
    assert session.url.startswith(stripe_sim)
    assert config["webhook_url"].endswith("/webhooks/stripe")


def test_no_key_no_client() -> None:
    assert payments_client(Settings(_env_file=None)) is None
