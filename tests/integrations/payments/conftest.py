"""A Stripe simulator and a webhook receiver on loopback, for the client and webhook tests.

These need no database: the simulator's events go to a small receiver that records them (and can
answer 500 to the next few), so a test can check what Stripe would have sent, byte for byte.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI, Request, Response

from integrations.payments.stripe_client import StripePayments
from integrations.payments.types import CheckoutLine, CheckoutSession
from integrations.simulators import stripe as stripe_sim
from integrations.simulators.serve import serve_in_background

API_KEY = "sk_test_payments_tests_51c2"
WEBHOOK_SECRET = "whsec_payments_tests_8d0e"
LINES = [
    CheckoutLine("Gạo Séng Cù túi 2 kg", 80_000, 2),
    CheckoutLine("Mật ong rừng hũ 500 g", 55_000, 1),
]


@dataclass
class Hook:
    """One webhook the receiver got: raw body and the signature header."""

    body: bytes
    signature: str | None
    type: str


@dataclass
class Receiver:
    """Records incoming webhooks; answers 500 to the next `fail_next`."""

    url: str = ""
    hooks: list[Hook] = field(default_factory=list)
    fail_next: int = 0

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/webhooks/stripe")
        async def receive(request: Request) -> Response:
            body = await request.body()
            kind = str(orjson.loads(body)["type"])
            self.hooks.append(Hook(body, request.headers.get("stripe-signature"), kind))
            if self.fail_next > 0:
                self.fail_next -= 1
                return Response(status_code=500)
            return Response(status_code=200)

        return app

    async def wait_for(self, count: int) -> list[Hook]:
        """The hooks so far, once at least `count` have arrived (bounded wait)."""
        for _ in range(500):
            if len(self.hooks) >= count:
                return list(self.hooks)
            await asyncio.sleep(0.01)
        raise AssertionError(f"expected {count} webhooks, got {[h.type for h in self.hooks]}")


@dataclass
class StripeSim:
    """Drives the simulator through `/_sim`."""

    base: str
    http: httpx.AsyncClient

    async def control(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        resp = await self.http.request(method, f"{self.base}/_sim{path}", json=body, params=params)
        assert resp.status_code == 200, resp.text
        return resp.json()

    async def configure(self, **body: Any) -> Any:
        return await self.control("PATCH", "/config", body)

    async def faults(self, count: int = 1, mode: str = "status", status_code: int = 500) -> Any:
        return await self.control(
            "POST", "/faults", {"count": count, "mode": mode, "status_code": status_code}
        )

    async def pay(self, session_id: str, **body: Any) -> Any:
        return await self.control("POST", f"/checkout/sessions/{session_id}/pay", body)

    async def events(self, type_: str | None = None) -> list[dict[str, Any]]:
        params = {} if type_ is None else {"type": type_}
        found: list[dict[str, Any]] = await self.control("GET", "/events", **params)
        return found

    async def drain(self) -> Any:
        return await self.control("POST", "/drain")


@pytest.fixture(scope="session")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5.0) as client:
        yield client


@pytest.fixture(scope="session")
async def receiver_server() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    async with serve_in_background(receiver.app()) as url:
        receiver.url = url
        yield receiver


@pytest.fixture
def receiver(receiver_server: Receiver) -> Receiver:
    receiver_server.hooks.clear()
    receiver_server.fail_next = 0
    return receiver_server


@pytest.fixture(scope="session")
async def sim_server(receiver_server: Receiver) -> AsyncIterator[tuple[str, FastAPI]]:
    config = stripe_sim.StripeSimConfig(
        api_key=API_KEY,
        webhook_secret=WEBHOOK_SECRET,
        webhook_url=f"{receiver_server.url}/webhooks/stripe",
        push_time_scale=0.0001,
        async_settle_s=None,
    )
    app = stripe_sim.create_app(config)
    async with serve_in_background(app) as url:
        yield url, app


@pytest.fixture
async def sim(
    sim_server: tuple[str, FastAPI], http: httpx.AsyncClient, receiver: Receiver
) -> StripeSim:
    driver = StripeSim(sim_server[0], http)
    await driver.control("POST", "/reset")
    return driver


@pytest.fixture
def sim_state(sim_server: tuple[str, FastAPI]) -> stripe_sim.StripeState:
    """The in-process simulator's state (to move a session's clock, nothing else)."""
    state: stripe_sim.StripeState = sim_server[1].state.sim
    return state


@pytest.fixture
async def payments(sim: StripeSim) -> AsyncIterator[StripePayments]:
    """Our client on the official library, no retries (each fault shows at once)."""
    client = StripePayments(api_key=API_KEY, api_base=sim.base, max_network_retries=0)
    yield client
    await client.aclose()


async def new_session(
    payments: StripePayments,
    *,
    key: str = "checkout-1",
    reference: str = "order-1",
    expires_in_s: int = 3600,
    lines: list[CheckoutLine] | None = None,
) -> CheckoutSession:
    """A session for two bags of rice and a jar of honey."""
    return await payments.create_checkout_session(
        lines=LINES if lines is None else lines,
        client_reference_id=reference,
        success_url="https://shop.example/buy/done?session={CHECKOUT_SESSION_ID}",
        cancel_url="https://shop.example/buy/again",
        expires_at=int(time.time()) + expires_in_s,
        metadata={"order_id": reference, "cooperative": "binh-lu"},
        idempotency_key=key,
    )
