"""Viettel Post webhooks: pushed by the simulator, verified and parsed by our functions."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import orjson
import pytest

from integrations.carriers.base import ShipmentStatus, WebhookPayloadError
from integrations.carriers.viettel_post import (
    ViettelPostClient,
    ViettelPostConfig,
    parse_webhook,
    verify_webhook,
)
from tests.integrations.carriers.conftest import VTP_SECRET, Receiver, Sim, booking

PATH = "webhooks/carriers/viettel-post"


async def _booked(vtp: Sim, http: httpx.AsyncClient, reference: str) -> str:
    config = ViettelPostConfig("coop-binh-lu", "mat-khau-vtp", api_base=vtp.base)
    return (await ViettelPostClient(config, http).book(booking(reference))).waybill


async def test_status_change_arrives_signed_and_parses(
    vtp: Sim, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    waybill = await _booked(vtp, http, "PH-WH-1")

    await vtp.advance(waybill=waybill, status="picked_up")
    [hook] = await receiver.wait_for(1, PATH)

    assert hook.headers["authorization"] == VTP_SECRET
    assert verify_webhook(hook.headers, hook.body, VTP_SECRET)
    assert not verify_webhook(hook.headers, hook.body, "someone-else")
    [update] = parse_webhook(hook.body)
    assert update.carrier == "viettel_post"
    assert (update.waybill, update.reference) == (waybill, "PH-WH-1")
    assert (update.raw_status, update.status) == ("105", ShipmentStatus.PICKED_UP)
    assert update.occurred_at.tzinfo is not None
    assert update.occurred_at.utcoffset() is not None
    assert abs((datetime.now(UTC) - update.occurred_at).total_seconds()) < 5
    assert update.cod_amount_vnd == 245_000
    assert update.weight_grams == 4_600
    status_date = orjson.loads(hook.body)["DATA"]["ORDER_STATUSDATE"]
    assert update.event_key == f"{waybill}:105:{status_date}"


async def test_failed_delivery_is_retried_with_the_same_event(
    vtp: Sim, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    waybill = await _booked(vtp, http, "PH-WH-2")
    receiver.fail_next = 2

    await vtp.advance(waybill=waybill, status=501)
    hooks = await receiver.wait_for(3, PATH)

    keys = {parse_webhook(h.body)[0].event_key for h in hooks}
    assert len(keys) == 1
    log = await vtp.control("GET", "/webhooks")
    assert log[-1]["attempts"] == 3
    assert log[-1]["delivered"] is True


async def test_advance_without_status_walks_the_happy_path(
    vtp: Sim, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    waybill = await _booked(vtp, http, "PH-WH-3")

    for _ in range(9):
        await vtp.advance(waybill=waybill)  # no status: one step along the happy path
    hooks = await receiver.wait_for(9, PATH)

    raw = {parse_webhook(h.body)[0].raw_status for h in hooks}
    assert raw == {"102", "103", "104", "105", "200", "300", "400", "500", "501"}
    assert (await vtp.bookings())["bookings"][0]["status"] == "501"


async def test_auto_progress_delivers_without_being_driven(
    vtp: Sim, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    await _booked(vtp, http, "PH-WH-4")

    await vtp.configure(auto_progress_s=0.02)
    hooks = await receiver.wait_for(9, PATH)
    await vtp.configure(auto_progress_s=None)

    assert ShipmentStatus.DELIVERED in {parse_webhook(h.body)[0].status for h in hooks}


def _body(token: str | None = VTP_SECRET, **data: object) -> bytes:
    fields: dict[str, object] = {
        "ORDER_NUMBER": "1800000000042",
        "ORDER_REFERENCE": "PH-77",
        "ORDER_STATUSDATE": "04/11/2025 14:30:00",
        "ORDER_STATUS": 506,
        "MONEY_COLLECTION": 180000,
        "PRODUCT_WEIGHT": 2100,
        "REASON_CODE": 36,
        **data,
    }
    return orjson.dumps({"DATA": fields, "TOKEN": token})


@pytest.mark.pure
def test_verify_accepts_secret_in_header_or_body_token_only() -> None:
    assert verify_webhook({"Authorization": VTP_SECRET}, _body(token="old-short"), VTP_SECRET)
    assert verify_webhook({}, _body(), VTP_SECRET)
    assert not verify_webhook({"Authorization": "wrong"}, _body(token="wrong"), VTP_SECRET)
    assert not verify_webhook({}, _body(token=None), VTP_SECRET)
    assert not verify_webhook({"Authorization": ""}, _body(token=""), "")
    assert not verify_webhook({"Authorization": "x"}, b"not json", VTP_SECRET)


@pytest.mark.pure
def test_parse_converts_vietnam_time_and_reason() -> None:
    [update] = parse_webhook(_body())

    assert update.occurred_at == datetime(2025, 11, 4, 7, 30, tzinfo=UTC)
    assert update.status is ShipmentStatus.DELIVERY_FAILED
    assert update.reason == "receiver unreachable"
    assert (update.cod_amount_vnd, update.weight_grams) == (180_000, 2_100)
    assert update.event_key == "1800000000042:506:04/11/2025 14:30:00"


@pytest.mark.pure
def test_parse_rejects_bodies_without_the_needed_fields() -> None:
    with pytest.raises(WebhookPayloadError):
        parse_webhook(b"{}")
    with pytest.raises(WebhookPayloadError):
        parse_webhook(b"nope")
    with pytest.raises(WebhookPayloadError):
        parse_webhook(_body(ORDER_STATUSDATE="yesterday"))
