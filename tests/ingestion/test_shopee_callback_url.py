"""In production the Shopee push is checked against SHOPEE_CALLBACK_URL, never the Host header."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr

from api.core.config import Settings
from api.main import create_app
from integrations.platforms.shopee import push_signature
from integrations.simulators.serve import serve_in_background

CONFIGURED = "https://phien.example.vn/webhooks/shopee"
BODY = (
    b'{"data":{"items":[],"ordersn":"261129QSK8S7BX","status":"READY_TO_SHIP",'
    b'"completed_scenario":"","update_time":1795912800},"shop_id":727720655,"code":3,'
    b'"timestamp":1795912800}'
)


def production_like(settings: Settings) -> Settings:
    """The test settings (same database, Redis and keys) validated as production settings."""
    values = settings.model_dump()
    values.update(
        environment="production",
        stripe_api_key=SecretStr("sk_test_prod_like_4d1e"),
        stripe_webhook_secret=SecretStr("whsec_prod_like_8a2c"),
        shopee_callback_url=CONFIGURED,
        public_base_url="https://phien.example.vn",
        buyer_phone_key=SecretStr("phone-key-prod-like-5b3a"),
        metrics_token=SecretStr("metrics-prod-like-7c0d"),
    )
    return Settings.model_validate(values)


@pytest.fixture
async def production_api(settings: Settings) -> AsyncIterator[tuple[str, str]]:
    """The application served with production settings; (base URL, Shopee partner key)."""
    prod = production_like(settings)
    async with serve_in_background(create_app(prod)) as base:
        yield base, prod.shopee_partner_key.get_secret_value()


async def test_a_push_signed_for_another_host_is_refused_in_production(
    production_api: tuple[str, str],
) -> None:
    base, key = production_api
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        forged_for = "http://evil.com/webhooks/shopee"
        forged = await http.post(
            "/webhooks/shopee",
            content=BODY,
            headers={"Authorization": push_signature(key, forged_for, BODY), "Host": "evil.com"},
        )
        assert forged.status_code == 401
        # What the request arrived on is not enough either: only the configured URL counts.
        arrived_on = f"{base}/webhooks/shopee"
        local = await http.post(
            "/webhooks/shopee",
            content=BODY,
            headers={"Authorization": push_signature(key, arrived_on, BODY)},
        )
        assert local.status_code == 401
        genuine = await http.post(
            "/webhooks/shopee",
            content=BODY,
            headers={"Authorization": push_signature(key, CONFIGURED, BODY)},
        )
        assert genuine.status_code == 200, genuine.text


async def test_development_without_a_configured_url_checks_the_request_url(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    assert settings.shopee_callback_url is None
    key = settings.shopee_partner_key.get_secret_value()
    url = str(client.base_url.join("/webhooks/shopee"))
    ok = await client.post(
        "/webhooks/shopee", content=BODY, headers={"Authorization": push_signature(key, url, BODY)}
    )
    assert ok.status_code == 200, ok.text
