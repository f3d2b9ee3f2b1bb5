"""Stripe webhooks we did not get from Stripe, or got too late, are refused and not stored."""

from __future__ import annotations

import httpx
from pydantic import SecretStr

from api.core.config import Settings
from api.core.db import Database
from api.webhooks.verify import WebhookContext, WebhookRequest, stripe_webhook
from tests.checkout.conftest import Shop
from tests.checkout.rig import StripeSim, checkout_row, opened, stripe_rows
from tests.factories import World


async def _refused(shop: Shop, db: Database, world: World, **how: object) -> list[int | None]:
    sim = StripeSim(shop.stripe)
    reference, session_id = await opened(shop, db, world)
    await sim.hold_events()
    await sim.pay(session_id)
    [event] = await sim.events("checkout.session.completed")
    await sim.deliver([event["id"]], **how)
    [seen] = await sim.events("checkout.session.completed")
    assert await stripe_rows(db) == []
    _, order = await checkout_row(db, reference)
    assert order.status == "pending_payment"
    return [d["status_code"] for d in seen["deliveries"]]


async def test_a_forged_signature_is_refused(shop: Shop, db: Database, world: World) -> None:
    assert set(await _refused(shop, db, world, forged=True)) == {401}  # and Stripe retried


async def test_a_stale_signature_is_refused(shop: Shop, db: Database, world: World) -> None:
    # Signed ten minutes ago (a replay): outside the library's 300 s tolerance.
    assert set(await _refused(shop, db, world, sign_offset_s=-600)) == {401}


async def test_an_unsigned_post_is_refused(shop: Shop, db: Database) -> None:
    async with httpx.AsyncClient(base_url=shop.api_base, timeout=10) as http:
        response = await http.post("/webhooks/stripe", content=b'{"id":"evt_1","type":"x"}')
    assert response.status_code == 401
    assert await stripe_rows(db) == []


async def test_without_a_webhook_secret_stripe_events_are_not_taken(settings: Settings) -> None:
    # A deployment with no STRIPE_WEBHOOK_SECRET: Stripe must retry later, not lose the event.
    bare = settings.model_copy(update={"stripe_webhook_secret": SecretStr("")})
    request = WebhookRequest(
        "http://127.0.0.1/webhooks/stripe", {"stripe-signature": "t=1,v1=00"}, b"{}"
    )
    status, _ = await stripe_webhook(WebhookContext(bare, inbox=None), request)  # type: ignore[arg-type]
    assert status == 503
