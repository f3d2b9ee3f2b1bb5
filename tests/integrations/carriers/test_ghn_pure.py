"""GHN request builders and response parsers, without the network."""

from __future__ import annotations

from dataclasses import replace

import httpx
import orjson
import pytest

from integrations.carriers.base import (
    Carrier,
    CarrierAuthError,
    CarrierError,
    DuplicateReference,
)
from integrations.carriers.ghn import GhnClient, GhnConfig, parsers
from integrations.carriers.ghn import requests as build
from integrations.carriers.viettel_post import ViettelPostClient, ViettelPostConfig
from tests.integrations.carriers.conftest import RECEIVER, booking

pytestmark = pytest.mark.pure


def test_create_body_uses_names_and_our_reference() -> None:
    body = build.create_order_body(booking("PH-G1"))

    assert body["client_order_code"] == "PH-G1"
    assert body["payment_type_id"] == 1
    assert body["cod_amount"] == 245_000
    assert (body["to_province_name"], body["to_ward_name"]) == (
        "Thành phố Hồ Chí Minh",
        "Phường Sài Gòn",
    )
    assert "to_district_name" not in body
    assert body["to_address"] == RECEIVER.full_address
    assert body["service_type_id"] == 2
    assert body["items"][1] == {
        "name": "Mật ong rừng hũ 500 g",
        "quantity": 1,
        "price": 55_000,
        "weight": 500,
    }


def test_legacy_district_and_service_id_pass_through() -> None:
    req = replace(
        booking("PH-G2"), receiver=replace(RECEIVER, district="Quận 1"), service_code="53320"
    )
    body = build.create_order_body(req)

    assert body["to_district_name"] == "Quận 1"
    assert body["service_id"] == 53320
    assert "service_type_id" not in body


def test_prepaid_and_limits() -> None:
    assert build.create_order_body(booking("p", prepaid=True))["cod_amount"] == 0
    with pytest.raises(ValueError, match="50000000"):
        build.create_order_body(booking("big", cod=50_000_001))
    with pytest.raises(ValueError, match="required_note"):
        build.create_order_body(booking("n"), required_note="WHATEVER")


def test_print_url_hangs_off_the_gateway_host() -> None:
    url = build.print_url("https://online-gateway.ghn.vn/shiip/public-api", "t0k", "A5")
    assert url == "https://online-gateway.ghn.vn/a5/public-api/printA5?token=t0k"


def test_envelope_errors() -> None:
    def doc(code: int, message: str, code_message: str = "") -> bytes:
        return orjson.dumps({"code": code, "message": message, "code_message": code_message})

    with pytest.raises(CarrierAuthError):
        parsers.check_response(401, doc(401, "Token is not valid!"))
    with pytest.raises(DuplicateReference):
        parsers.check_response(
            400, doc(400, "client_order_code đã tồn tại", "USER_ERR_COMMON"), reference="x"
        )
    with pytest.raises(CarrierError) as missing:
        parsers.check_response(400, doc(400, "Order not found", "ORDER_NOT_FOUND"))
    assert missing.value.code == "not_found"
    with pytest.raises(CarrierError) as busy:
        parsers.check_response(503, b"upstream down")
    assert busy.value.transient


def test_cancel_result_false_carries_the_reason() -> None:
    refused = {"code": 200, "data": [{"order_code": "G1", "result": False, "message": "picked"}]}
    with pytest.raises(CarrierError, match="picked") as caught:
        parsers.parse_cancel(refused, "G1")
    assert caught.value.code == "cancel_refused"
    parsers.parse_cancel({"data": [{"order_code": "G1", "result": True}]}, "G1")


async def test_both_clients_implement_the_carrier_protocol() -> None:
    async with httpx.AsyncClient() as http:
        carriers: list[Carrier] = [
            ViettelPostClient(ViettelPostConfig("user", "secret"), http),
            GhnClient(GhnConfig(token="t", shop_id=1), http),
        ]
    assert [c.name for c in carriers] == ["viettel_post", "ghn"]
