"""Carrier simulators and a webhook receiver served on loopback for the client tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from integrations.carriers.base import Address, BookingRequest, Item, Parcel
from integrations.simulators import ghn as ghn_sim
from integrations.simulators import viettel_post as vtp_sim
from integrations.simulators._carrier_common import CarrierSimConfig
from integrations.simulators.serve import serve_in_background

VTP_SECRET = "vtp-webhook-secret-7f3a"
GHN_SECRET = "ghn-path-secret-91c2"
GHN_TOKEN = "ghn-test-token"
GHN_SHOP_ID = 4242


@dataclass
class Received:
    """One webhook the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Records incoming webhooks; can be told to answer 500 to the next N."""

    url: str = ""
    records: list[Received] = field(default_factory=list)
    fail_next: int = 0

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/{path:path}")
        async def receive(path: str, request: Request) -> Response:
            self.records.append(Received(path, dict(request.headers), await request.body()))
            if self.fail_next > 0:
                self.fail_next -= 1
                return Response(status_code=500)
            return Response(status_code=200)

        return app

    async def wait_for(self, count: int, prefix: str = "") -> list[Received]:
        """Records under `prefix`, once at least `count` have arrived (bounded wait)."""
        for _ in range(200):
            matching = [r for r in self.records if r.path.startswith(prefix)]
            if len(matching) >= count:
                return matching
            await asyncio.sleep(0.02)
        raise AssertionError(f"expected {count} webhooks under {prefix!r}, got {self.records}")


@dataclass
class Sim:
    """Drives a simulator through its /_sim control endpoints."""

    base: str
    http: httpx.AsyncClient

    async def control(self, method: str, path: str, body: Any = None) -> Any:
        resp = await self.http.request(method, f"{self.base}/_sim{path}", json=body)
        assert resp.status_code == 200, resp.text
        return resp.json()

    async def bookings(self) -> Any:
        return await self.control("GET", "/bookings?requests=true")

    async def sent(self, reference: str) -> dict[str, Any]:
        """The create-order body the simulator received for a reference."""
        parcels = await self.control("GET", f"/bookings/{reference}")
        assert len(parcels) == 1
        request: dict[str, Any] = parcels[0]["request"]
        return request

    async def advance(self, **body: Any) -> Any:
        return await self.control("POST", "/advance", body)

    async def configure(self, **body: Any) -> Any:
        return await self.control("POST", "/config", body)

    async def stats(self) -> Any:
        return await self.control("GET", "/stats")


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
async def receiver(receiver_server: Receiver) -> Receiver:
    receiver_server.records.clear()
    receiver_server.fail_next = 0
    return receiver_server


def _sim_config(receiver: Receiver, path: str, secret: str) -> CarrierSimConfig:
    return CarrierSimConfig(
        username="coop-binh-lu",
        password="mat-khau-vtp",
        token=GHN_TOKEN,
        shop_id=GHN_SHOP_ID,
        webhook_secret=secret,
        webhook_target_url=f"{receiver.url}{path}",
        webhook_retry_delay_s=0.02,
        timeout_sleep_s=1.0,
        seed=7,
    )


@pytest.fixture(scope="session")
async def vtp_server(receiver_server: Receiver) -> AsyncIterator[str]:
    config = _sim_config(receiver_server, "/webhooks/carriers/viettel-post", VTP_SECRET)
    async with serve_in_background(vtp_sim.create_app(config)) as url:
        yield url


@pytest.fixture(scope="session")
async def ghn_server(receiver_server: Receiver) -> AsyncIterator[str]:
    config = _sim_config(receiver_server, "/webhooks/carriers/ghn", GHN_SECRET)
    async with serve_in_background(ghn_sim.create_app(config)) as url:
        yield url


@pytest.fixture
async def vtp(vtp_server: str, http: httpx.AsyncClient, receiver: Receiver) -> Sim:
    sim = Sim(vtp_server, http)
    await sim.control("POST", "/reset")
    return sim


@pytest.fixture
async def ghn(ghn_server: str, http: httpx.AsyncClient, receiver: Receiver) -> Sim:
    sim = Sim(ghn_server, http)
    await sim.control("POST", "/reset")
    return sim


SENDER = Address(
    name="HTX Nông sản Bình Lư",
    phone="0912345678",
    province="Lai Châu",
    ward="Xã Bình Lư",
    street="Bản Nà Khum",
    full_address="Bản Nà Khum, Xã Bình Lư, Lai Châu",
)
RECEIVER = Address(
    name="Nguyễn Thị Hoa",
    phone="0987654321",
    province="Thành phố Hồ Chí Minh",
    ward="Phường Sài Gòn",
    street="12 Lê Lợi",
    full_address="12 Lê Lợi, Phường Sài Gòn, Thành phố Hồ Chí Minh",
)


def booking(reference: str, *, prepaid: bool = False, cod: int = 245_000) -> BookingRequest:
    """A typical order: 2 bags of Séng Cù rice and a jar of honey."""
    return BookingRequest(
        reference=reference,
        sender=SENDER,
        receiver=RECEIVER,
        parcel=Parcel(weight_grams=4_600, value_vnd=215_000, description="Gạo Séng Cù, mật ong"),
        cod_amount_vnd=0 if prepaid else cod,
        prepaid=prepaid,
        note="Cho xem hàng, gọi trước khi giao",
        items=[
            Item("Gạo Séng Cù túi 2 kg", 2, 2_050, 80_000),
            Item("Mật ong rừng hũ 500 g", 1, 500, 55_000),
        ],
    )
