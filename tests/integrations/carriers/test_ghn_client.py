"""GHN client and webhooks against the simulator over real HTTP."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from integrations.carriers.base import (
    CarrierAuthError,
    CarrierError,
    DuplicateReference,
    ShipmentStatus,
)
from integrations.carriers.ghn import GhnClient, GhnConfig, parse_webhook, verify_path_secret
from tests.integrations.carriers.conftest import (
    GHN_SECRET,
    GHN_SHOP_ID,
    GHN_TOKEN,
    RECEIVER,
    SENDER,
    Receiver,
    Sim,
    booking,
)


def client(sim: Sim, http: httpx.AsyncClient, **overrides: Any) -> GhnClient:
    config = GhnConfig(
        token=GHN_TOKEN, shop_id=GHN_SHOP_ID, api_base=f"{sim.base}/shiip/public-api"
    )
    return GhnClient(replace(config, **overrides), http)


async def test_cod_booking_sends_names_and_collects_exactly_cod(
    ghn: Sim, http: httpx.AsyncClient
) -> None:
    booked = await client(ghn, http).book(booking("PH-G-COD"))

    sent = await ghn.sent("PH-G-COD")
    assert sent["client_order_code"] == "PH-G-COD"
    assert sent["cod_amount"] == 245_000
    assert sent["payment_type_id"] == 1  # the shop pays GHN: the buyer pays only cod_amount
    assert sent["to_province_name"] == RECEIVER.province
    assert sent["to_ward_name"] == RECEIVER.ward
    assert sent["to_address"] == RECEIVER.full_address
    assert (sent["from_province_name"], sent["from_ward_name"]) == (SENDER.province, SENDER.ward)
    assert sent["weight"] == 4_600
    assert sent["required_note"] == "CHOXEMHANGKHONGTHU"
    assert len(sent["items"]) == 2
    assert booked.carrier == "ghn"
    assert booked.waybill == (await ghn.bookings())["bookings"][0]["waybill"]
    assert booked.fee_vnd > 0
    assert booked.sort_code


async def test_prepaid_booking_collects_nothing(ghn: Sim, http: httpx.AsyncClient) -> None:
    await client(ghn, http).book(booking("PH-G-PRE", prepaid=True))

    assert (await ghn.sent("PH-G-PRE"))["cod_amount"] == 0


async def test_wrong_token_is_an_auth_error(ghn: Sim, http: httpx.AsyncClient) -> None:
    with pytest.raises(CarrierAuthError):
        await client(ghn, http, token="stolen").book(booking("PH-G-AUTH"))


async def test_wrong_shop_is_refused(ghn: Sim, http: httpx.AsyncClient) -> None:
    with pytest.raises(CarrierError) as caught:
        await client(ghn, http, shop_id=1).book(booking("PH-G-SHOP"))

    assert "SHOP_NOT_FOUND" in caught.value.message
    assert (await ghn.bookings())["total"] == 0


async def test_duplicate_reference_then_lookup_finds_the_first_booking(
    ghn: Sim, http: httpx.AsyncClient
) -> None:
    ghn_client = client(ghn, http)
    first = await ghn_client.book(booking("PH-G-DUP"))

    with pytest.raises(DuplicateReference):
        await ghn_client.book(booking("PH-G-DUP"))
    found = await ghn_client.find_by_reference("PH-G-DUP")

    assert found is not None
    assert (found.waybill, found.reference) == (first.waybill, "PH-G-DUP")
    summary = await ghn.bookings()
    assert (summary["total"], summary["duplicates"], summary["duplicate_attempts_rejected"]) == (
        1,
        0,
        1,
    )


async def test_lookup_of_unknown_reference_is_none(ghn: Sim, http: httpx.AsyncClient) -> None:
    assert await client(ghn, http).find_by_reference("PH-G-NEVER") is None


async def test_timeout_after_accept_then_lookup_finds_it(ghn: Sim) -> None:
    await ghn.configure(timeout_rate=1.0)
    async with httpx.AsyncClient(timeout=0.3) as impatient:
        ghn_client = client(ghn, impatient)
        with pytest.raises(CarrierError) as caught:
            await ghn_client.book(booking("PH-G-TMO"))
        await ghn.configure(timeout_rate=0.0)

        found = await ghn_client.find_by_reference("PH-G-TMO")

    assert (caught.value.code, caught.value.transient) == ("timeout", True)
    assert found is not None
    assert (await ghn.bookings())["total"] == 1


async def test_server_error_is_transient(ghn: Sim, http: httpx.AsyncClient) -> None:
    await ghn.configure(failure_rate=1.0)

    with pytest.raises(CarrierError) as caught:
        await client(ghn, http).book(booking("PH-G-500"))

    assert caught.value.transient is True
    assert (await ghn.bookings())["total"] == 0


async def test_cancel_before_pickup(ghn: Sim, http: httpx.AsyncClient) -> None:
    ghn_client = client(ghn, http)
    booked = await ghn_client.book(booking("PH-G-CXL"))

    await ghn_client.cancel(booked.waybill)

    assert (await ghn.bookings())["bookings"][0]["status"] == "cancel"


async def test_cancel_after_pickup_is_refused_with_reason(
    ghn: Sim, http: httpx.AsyncClient
) -> None:
    ghn_client = client(ghn, http)
    booked = await ghn_client.book(booking("PH-G-CXL2"))
    await ghn.advance(waybill=booked.waybill, status="picked")

    with pytest.raises(CarrierError) as caught:
        await ghn_client.cancel(booked.waybill)

    assert caught.value.code == "cancel_refused"
    assert "picked" in caught.value.message


async def test_label_url_prints_the_waybill(ghn: Sim, http: httpx.AsyncClient) -> None:
    ghn_client = client(ghn, http)
    booked = await ghn_client.book(booking("PH-G-LBL"))

    label = await ghn_client.label(booked.waybill)
    url = label.url
    page = await http.get(url)
    assert label.expires_at > datetime.now(UTC)

    assert url.startswith(f"{ghn.base}/a5/public-api/printA5?token=")
    assert page.status_code == 200
    assert booked.waybill in page.text


async def test_status_webhook_reaches_the_secret_url_and_parses(
    ghn: Sim, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    booked = await client(ghn, http).book(booking("PH-G-WH"))

    await ghn.advance(waybill=booked.waybill, status="delivered")
    [hook] = await receiver.wait_for(1, "webhooks/carriers/ghn/")

    given_secret = hook.path.rsplit("/", 1)[1]
    assert verify_path_secret(given_secret, GHN_SECRET)
    assert not verify_path_secret("guess", GHN_SECRET)
    [update] = parse_webhook(hook.body)
    assert (update.carrier, update.waybill, update.reference) == (
        "ghn",
        booked.waybill,
        "PH-G-WH",
    )
    assert (update.raw_status, update.status) == ("delivered", ShipmentStatus.DELIVERED)
    assert update.occurred_at.utcoffset() is not None
    assert update.cod_amount_vnd == 245_000
    assert update.event_key.startswith(f"{booked.waybill}:switch_status:delivered:")


@pytest.mark.pure
def test_webhook_time_is_read_as_utc() -> None:
    body = (
        b'{"OrderCode": "GS1", "ClientOrderCode": "PH-1", "Status": "delivery_fail",'
        b' "Time": "2025-11-04T07:30:00.123Z", "Type": "switch_status", "Reason": "Khach hen"}'
    )
    [update] = parse_webhook(body)

    assert update.occurred_at.isoformat() == "2025-11-04T07:30:00.123000+00:00"
    assert update.status is ShipmentStatus.DELIVERY_FAILED
    assert update.reason == "Khach hen"


async def test_order_state_is_read_by_our_code_or_by_ghn_code(
    ghn: Sim, http: httpx.AsyncClient
) -> None:
    ghn_client = client(ghn, http)
    booked = await ghn_client.book(booking("PH-G-STATE"))
    by_reference = await ghn_client.order_state(booked.waybill, "PH-G-STATE")
    by_waybill = await ghn_client.order_state(booked.waybill, None)
    assert by_reference == by_waybill
    assert by_reference is not None
    assert (by_reference.raw_status, by_reference.reference) == ("ready_to_pick", "PH-G-STATE")
    assert by_reference.cod_amount_vnd == booking("PH-G-STATE").cod_amount_vnd
    assert await ghn_client.order_state("GS9999999", None) is None
    # Our code, another parcel: not this waybill's state.
    assert await ghn_client.order_state("GS9999999", "PH-G-STATE") is None
