"""Viettel Post client against the simulator over real HTTP."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from integrations.carriers.base import CarrierAuthError, CarrierError, DuplicateReference
from integrations.carriers.viettel_post import ViettelPostClient, ViettelPostConfig
from integrations.carriers.viettel_post import requests as build
from integrations.simulators import viettel_post as vtp_sim
from integrations.simulators._carrier_common import CarrierSimConfig
from integrations.simulators.serve import serve_in_background
from tests.integrations.carriers.conftest import RECEIVER, SENDER, Sim, booking

USERNAME, PASSWORD = "coop-binh-lu", "mat-khau-vtp"


def client(sim: Sim, http: httpx.AsyncClient, **overrides: Any) -> ViettelPostClient:
    config = ViettelPostConfig(username=USERNAME, password=PASSWORD, api_base=sim.base)
    return ViettelPostClient(replace(config, **overrides), http)


async def test_cod_booking_collects_exactly_the_cod_amount(
    vtp: Sim, http: httpx.AsyncClient
) -> None:
    result = await client(vtp, http).book(booking("PH-COD-1"))

    sent = await vtp.sent("PH-COD-1")
    assert sent["ORDER_NUMBER"] == "PH-COD-1"
    assert sent["ORDER_PAYMENT"] == 3  # goods only: VTP must not add its fee on top
    assert sent["MONEY_COLLECTION"] == 245_000
    assert sent["CHECK_UNIQUE"] is True
    assert sent["PRODUCT_WEIGHT"] == 4_600
    assert sent["PRODUCT_PRICE"] == 215_000
    assert sent["ORDER_SERVICE"] == "VCN"  # matched through getPriceAll
    assert sent["LIST_ITEM"][0] == {
        "PRODUCT_NAME": "Gạo Séng Cù túi 2 kg",
        "PRODUCT_PRICE": 80_000,
        "PRODUCT_WEIGHT": 2_050,
        "PRODUCT_QUANTITY": 2,
    }
    assert result.carrier == "viettel_post"
    assert result.reference == "PH-COD-1"
    assert result.waybill == (await vtp.bookings())["bookings"][0]["waybill"]
    assert result.fee_vnd > 0
    assert result.sort_code


async def test_prepaid_booking_collects_nothing(vtp: Sim, http: httpx.AsyncClient) -> None:
    await client(vtp, http).book(booking("PH-PRE-1", prepaid=True))

    sent = await vtp.sent("PH-PRE-1")
    assert sent["ORDER_PAYMENT"] == 1
    assert sent["MONEY_COLLECTION"] == 0


async def test_two_tier_address_goes_as_v3_ids_with_text_intact(
    vtp: Sim, http: httpx.AsyncClient
) -> None:
    await client(vtp, http).book(booking("PH-ADDR-1"))

    sent = await vtp.sent("PH-ADDR-1")
    assert sent["RECEIVER_ADDRESS"] == RECEIVER.full_address
    assert sent["RECEIVER_FULLNAME"] == "Nguyễn Thị Hoa"
    assert sent["RECEIVER_PROVINCE"] == 79  # Thành phố Hồ Chí Minh in the simulator's v3 list
    assert sent["RECEIVER_WARD"] == 1_000_000 + 26740  # Phường Sài Gòn, not its old code
    assert sent["RECEIVER_DISTRICT"] == 0
    assert sent["SENDER_PROVINCE"] == 12  # Lai Châu
    assert sent["SENDER_DISTRICT"] == 0


async def test_names_without_administrative_prefix_resolve(
    vtp: Sim, http: httpx.AsyncClient
) -> None:
    vtp_client = client(vtp, http)
    plain = RECEIVER.__class__(
        **{**RECEIVER.__dict__, "province": "Hồ Chí Minh", "ward": "Sài Gòn"}
    )

    ids = await vtp_client.resolve(plain)

    assert (ids.province_id, ids.ward_id) == (79, 1_026_740)


async def test_unknown_ward_is_refused_before_booking(vtp: Sim, http: httpx.AsyncClient) -> None:
    request = replace(booking("PH-ADDR-2"), receiver=replace(RECEIVER, ward="Phường Không Có"))

    with pytest.raises(CarrierError) as caught:
        await client(vtp, http).book(request)

    assert caught.value.code == "bad_address"
    assert (await vtp.bookings())["total"] == 0


async def test_configured_service_skips_price_matching(vtp: Sim, http: httpx.AsyncClient) -> None:
    await client(vtp, http, service_code="VTK").book(booking("PH-SVC-1"))

    assert (await vtp.sent("PH-SVC-1"))["ORDER_SERVICE"] == "VTK"
    assert "getPriceAll" not in (await vtp.stats())["calls"]


async def test_login_is_reused_across_calls(vtp: Sim, http: httpx.AsyncClient) -> None:
    vtp_client = client(vtp, http)

    await asyncio.gather(*(vtp_client.book(booking(f"PH-LOGIN-{i}")) for i in range(5)))

    assert (await vtp.stats())["logins"] == 1


async def test_refused_token_triggers_one_fresh_login(vtp: Sim, http: httpx.AsyncClient) -> None:
    vtp_client = client(vtp, http)
    await vtp_client.book(booking("PH-EXP-1"))

    await vtp.control("POST", "/expire-tokens")
    await vtp_client.book(booking("PH-EXP-2"))

    assert (await vtp.stats())["logins"] == 2
    assert (await vtp.bookings())["total"] == 2


async def test_token_is_renewed_before_vtp_expiry(http: httpx.AsyncClient) -> None:
    # VTP's `expired` (one hour here) wins over the client's own 23 h, less a 60 s safety margin.
    # The simulator and the client read one clock, which the test turns instead of waiting.
    now = time.time()

    def clock() -> float:
        return now

    config = CarrierSimConfig(username=USERNAME, password=PASSWORD, token_ttl_s=3600)
    async with serve_in_background(vtp_sim.create_app(config, clock=clock)) as base:
        sim = Sim(base, http)
        vtp_client = ViettelPostClient(
            ViettelPostConfig(username=USERNAME, password=PASSWORD, api_base=base),
            http,
            clock=clock,
        )
        await vtp_client.book(booking("PH-TTL-1"))

        now += 3600 - 61  # a second before the margin: the token is still used
        await vtp_client.book(booking("PH-TTL-2"))
        assert (await sim.stats())["logins"] == 1

        now += 2  # inside the margin, while VTP would still take the token
        await vtp_client.book(booking("PH-TTL-3"))

        stats = await sim.stats()
    assert stats["logins"] == 2
    assert stats["calls"]["createOrder"] == 3  # renewed up front, no refused call in between


async def test_wrong_password_is_an_auth_error(vtp: Sim, http: httpx.AsyncClient) -> None:
    with pytest.raises(CarrierAuthError):
        await client(vtp, http, password="sai").book(booking("PH-AUTH-1"))


async def test_error_flag_with_http_200_raises(vtp: Sim, http: httpx.AsyncClient) -> None:
    login = await http.post(
        f"{vtp.base}/v2/user/Login", json={"USERNAME": USERNAME, "PASSWORD": PASSWORD}
    )
    raw = await http.post(
        f"{vtp.base}/v2/order/createOrder",
        headers={"Token": login.json()["data"]["token"]},
        json={"ORDER_NUMBER": "PH-RAW", "ORDER_PAYMENT": 1, "ORDER_SERVICE": "NOPE"},
    )
    assert raw.status_code == 200
    assert raw.json()["error"] is True

    with pytest.raises(CarrierError) as caught:
        await client(vtp, http, service_code="NOPE").book(booking("PH-ERR-1"))

    assert "Price does not apply" in caught.value.message
    assert caught.value.transient is False


async def test_duplicate_reference_then_lookup_finds_the_first_booking(
    vtp: Sim, http: httpx.AsyncClient
) -> None:
    vtp_client = client(vtp, http)
    first = await vtp_client.book(booking("PH-DUP-1"))

    with pytest.raises(DuplicateReference) as caught:
        await vtp_client.book(booking("PH-DUP-1"))
    found = await vtp_client.find_by_reference("PH-DUP-1")

    assert caught.value.reference == "PH-DUP-1"
    assert found is not None
    assert found.waybill == first.waybill
    summary = await vtp.bookings()
    assert (summary["total"], summary["duplicates"]) == (1, 0)
    assert summary["duplicate_attempts_rejected"] == 1


async def test_lookup_of_unknown_reference_is_none(vtp: Sim, http: httpx.AsyncClient) -> None:
    assert await client(vtp, http).find_by_reference("PH-NEVER") is None


async def test_timeout_after_accept_then_lookup_finds_it(vtp: Sim) -> None:
    await vtp.configure(timeout_rate=1.0)
    async with httpx.AsyncClient(timeout=0.3) as impatient:
        vtp_client = client(vtp, impatient)
        with pytest.raises(CarrierError) as caught:
            await vtp_client.book(booking("PH-TMO-1"))
        await vtp.configure(timeout_rate=0.0)

        found = await vtp_client.find_by_reference("PH-TMO-1")

    assert (caught.value.code, caught.value.transient) == ("timeout", True)
    assert found is not None
    assert found.waybill == (await vtp.bookings())["bookings"][0]["waybill"]
    assert (await vtp.bookings())["total"] == 1


async def test_server_error_is_transient_and_books_nothing(
    vtp: Sim, http: httpx.AsyncClient
) -> None:
    vtp_client = client(vtp, http, service_code="VCN")
    await vtp_client.resolve(RECEIVER)  # log in and cache ids while the carrier is healthy
    await vtp.configure(failure_rate=1.0)

    with pytest.raises(CarrierError) as caught:
        await vtp_client.book(booking("PH-500-1"))

    assert caught.value.transient is True
    assert (await vtp.bookings())["total"] == 0


async def test_cancel_before_pickup(vtp: Sim, http: httpx.AsyncClient) -> None:
    vtp_client = client(vtp, http)
    booked = await vtp_client.book(booking("PH-CXL-1"))

    await vtp_client.cancel(booked.waybill)

    assert (await vtp.bookings())["bookings"][0]["status"] == "107"


async def test_cancel_after_pickup_is_refused_with_reason(
    vtp: Sim, http: httpx.AsyncClient
) -> None:
    vtp_client = client(vtp, http)
    booked = await vtp_client.book(booking("PH-CXL-2"))
    await vtp.advance(waybill=booked.waybill, status=105)

    with pytest.raises(CarrierError) as caught:
        await vtp_client.cancel(booked.waybill)

    assert caught.value.code == "cancel_refused"
    assert booked.waybill in caught.value.message
    assert "105" in caught.value.message
    assert (await vtp.bookings())["bookings"][0]["status"] == "105"


async def test_label_url_prints_the_waybill(vtp: Sim, http: httpx.AsyncClient) -> None:
    vtp_client = client(vtp, http)
    booked = await vtp_client.book(booking("PH-LBL-1"))

    label = await vtp_client.label(booked.waybill)
    url = label.url
    page = await http.get(url)
    assert label.expires_at > datetime.now(UTC)

    assert url.startswith(f"{vtp.base}/DigitalizePrint/report.do?type=2&bill=")
    assert page.status_code == 200
    assert booked.waybill in page.text


async def test_long_vietnamese_text_is_cut_to_150_bytes(vtp: Sim, http: httpx.AsyncClient) -> None:
    note = "Giao giờ hành chính, gọi trước cho chị Hường ở nhà văn hoá thôn Nậm Ngặt. " * 4
    request = replace(booking("PH-LONG-1"), note=note)

    await client(vtp, http).book(request)

    sent_note = (await vtp.sent("PH-LONG-1"))["ORDER_NOTE"]
    assert len(sent_note.encode("utf-8")) <= 150
    assert note.startswith(sent_note)
    assert len(sent_note) > 60  # a real prefix, not an empty string


async def test_bookings_report_counts_a_client_that_forgets_check_unique(
    vtp: Sim, http: httpx.AsyncClient
) -> None:
    vtp_client = client(vtp, http, service_code="VCN")
    sender, receiver = await vtp_client.resolve(SENDER), await vtp_client.resolve(RECEIVER)
    body = build.create_order_body(booking("PH-NOUNIQ"), sender, receiver, "VCN")
    login = await http.post(
        f"{vtp.base}/v2/user/Login", json={"USERNAME": USERNAME, "PASSWORD": PASSWORD}
    )
    headers = {"Token": login.json()["data"]["token"]}

    for _ in range(2):
        sent = await http.post(
            f"{vtp.base}/v2/order/createOrder",
            headers=headers,
            json={**body, "CHECK_UNIQUE": False},
        )
        assert sent.json()["error"] is False

    summary = await vtp.bookings()
    assert (summary["total"], summary["duplicates"]) == (2, 1)
    assert summary["counts"]["PH-NOUNIQ"] == 2
