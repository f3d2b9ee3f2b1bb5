"""Simulators and a webhook receiver on loopback, for exercising the real clients over HTTP."""

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from integrations.platforms.shopee.signing import verify_push
from integrations.platforms.tiktok_shop.signing import verify_webhook
from integrations.simulators.serve import serve_in_background
from integrations.simulators.shopee import ShopeeSimConfig
from integrations.simulators.shopee import create_app as create_shopee_app
from integrations.simulators.tiktok_shop import TikTokShopSimConfig
from integrations.simulators.tiktok_shop import create_app as create_tiktok_app

Verifier = Callable[[str, bytes, str | None], bool]


class Receiver:
    """Stand-in for Phiên's webhook endpoint: verifies the raw bytes, records, fails on demand."""

    def __init__(self, verify: Verifier) -> None:
        self.url = ""
        self.bodies: list[bytes] = []
        self.rejected = 0
        self.fail_next = 0
        app = FastAPI()

        @app.post("/webhooks/{platform}")
        async def receive(platform: str, request: Request) -> Response:
            raw = await request.body()
            if self.fail_next > 0:
                self.fail_next -= 1
                return Response(status_code=503)
            if not verify(self.url, raw, request.headers.get("authorization")):
                self.rejected += 1
                return Response(status_code=401)
            self.bodies.append(raw)
            return Response(status_code=200)

        self.app = app


@dataclass
class SimRig:
    """A running simulator, its control client and the receiver its pushes go to."""

    sim_url: str
    http: httpx.AsyncClient
    receiver: Receiver
    extra: dict[str, str] = field(default_factory=dict)

    async def control(
        self,
        method: str,
        path: str,
        *,
        json: object = None,
        params: dict[str, float] | None = None,
    ) -> dict[str, Any]:
        """Call a `/_sim` endpoint and return its JSON, failing the test on an error status."""
        response = await self.http.request(method, self.sim_url + path, json=json, params=params)
        assert response.status_code < 300, response.text
        body = response.json()
        assert isinstance(body, dict)
        return body

    async def drain(self) -> dict[str, Any]:
        """Wait (bounded) until every queued push has been delivered or abandoned."""
        stats = await self.control("POST", "/_sim/drain", params={"timeout_s": 10})
        assert stats["idle"], stats
        return stats


TIKTOK = TikTokShopSimConfig(
    app_key="test_key", app_secret="test_secret", push_backoff_s=(0.01, 0.02)
)
SHOPEE = ShopeeSimConfig(
    partner_id=2001887, partner_key="test_partner_key", push_backoff_s=(0.01, 0.02)
)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10.0) as client:
        yield client


@pytest.fixture
async def tiktok(http: httpx.AsyncClient) -> AsyncIterator[SimRig]:
    receiver = Receiver(
        lambda _url, raw, auth: verify_webhook("test_key", "test_secret", raw, auth)
    )
    async with (
        serve_in_background(create_tiktok_app(TIKTOK)) as sim,
        serve_in_background(receiver.app) as recv,
    ):
        receiver.url = recv + "/webhooks/tiktok-shop"
        rig = SimRig(sim, http, receiver)
        await rig.control("PATCH", "/_sim/config", json={"webhook_url": receiver.url})
        yield rig


@pytest.fixture
async def shopee(http: httpx.AsyncClient) -> AsyncIterator[SimRig]:
    receiver = Receiver(lambda url, raw, auth: verify_push("test_partner_key", url, raw, auth))
    async with (
        serve_in_background(create_shopee_app(SHOPEE)) as sim,
        serve_in_background(receiver.app) as recv,
    ):
        receiver.url = recv + "/webhooks/shopee"
        rig = SimRig(sim, http, receiver)
        await rig.control("PATCH", "/_sim/config", json={"webhook_url": receiver.url})
        yield rig
