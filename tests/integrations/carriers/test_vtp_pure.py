"""Viettel Post request builders and response parsers, without the network."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson
import pytest

from integrations.carriers.base import CarrierAuthError, CarrierError, DuplicateReference
from integrations.carriers.viettel_post import parsers
from integrations.carriers.viettel_post import requests as build
from integrations.carriers.viettel_post.addresses import Place, find_place
from tests.integrations.carriers.conftest import booking

pytestmark = pytest.mark.pure

SENDER_IDS = build.AddressIds(12, 1_003_000)
RECEIVER_IDS = build.AddressIds(79, 1_026_740)


def _create(**changes: Any) -> dict[str, Any]:
    req = replace(booking("PH-1"), **changes)
    return build.create_order_body(req, SENDER_IDS, RECEIVER_IDS, "VCN")


def test_create_body_carries_reference_ids_and_goods() -> None:
    body = _create()

    assert body["ORDER_NUMBER"] == "PH-1"
    assert (body["RECEIVER_PROVINCE"], body["RECEIVER_DISTRICT"], body["RECEIVER_WARD"]) == (
        79,
        0,
        1_026_740,
    )
    assert body["PRODUCT_NAME"] == "Gạo Séng Cù túi 2 kg x2, Mật ong rừng hũ 500 g x1"
    assert body["PRODUCT_QUANTITY"] == 3
    assert body["PRODUCT_TYPE"] == "HH"
    assert body["GROUPADDRESS_ID"] == 0
    assert "DELIVERY_DATE" not in body
    assert "CUS_ID" not in body


def test_payment_fields_never_charge_shipping_twice() -> None:
    assert build.payment_fields(booking("a")) == (3, 245_000)
    assert build.payment_fields(booking("b", prepaid=True)) == (1, 0)
    assert build.payment_fields(booking("c", cod=0)) == (1, 0)
    with pytest.raises(ValueError, match="prepaid"):
        build.payment_fields(replace(booking("d", prepaid=True), cod_amount_vnd=10))


def test_every_text_field_fits_150_bytes() -> None:
    long = "Hợp tác xã nông nghiệp sạch vùng cao Tây Bắc " * 5
    body = _create(note=long, sender=replace(booking("x").sender, name=long, full_address=long))

    for key in ("ORDER_NOTE", "SENDER_FULLNAME", "SENDER_ADDRESS"):
        value = body[key]
        assert isinstance(value, str)
        assert len(value.encode("utf-8")) <= 150
        assert long.startswith(value)


def test_cancel_and_print_bodies() -> None:
    assert build.cancel_body("1800000000001") == {
        "TYPE": 4,
        "ORDER_NUMBER": "1800000000001",
        "NOTE": "",
    }
    assert build.printing_code_body(["1"], 99) == {"EXPIRY_TIME": 99, "ORDER_ARRAY": ["1"]}
    with pytest.raises(ValueError, match="100"):
        build.printing_code_body([str(i) for i in range(101)], 99)
    assert (
        build.print_url("https://digitalize.viettelpost.vn", "abc", "2")
        == "https://digitalize.viettelpost.vn/DigitalizePrint/report.do?type=2&bill=abc&showPostage=1"
    )


def _doc(**envelope: object) -> bytes:
    return orjson.dumps({"status": 200, "error": False, "message": "OK", "data": None, **envelope})


def test_error_flag_wins_over_http_200() -> None:
    with pytest.raises(CarrierError) as caught:
        parsers.check_response(200, _doc(error=True, message="Groupaddress is invalid"))
    assert caught.value.code == "rejected"
    assert not caught.value.transient


def test_error_classification() -> None:
    with pytest.raises(CarrierAuthError) as auth:
        parsers.check_response(200, _doc(error=True, message="Token invalid or expired"))
    assert auth.value.code == "token_rejected"
    with pytest.raises(CarrierAuthError) as login:
        parsers.check_response(200, _doc(error=True, message="Invalid owner account or password!"))
    assert login.value.code == "login_failed"
    with pytest.raises(CarrierError) as system:
        parsers.check_response(200, _doc(error=True, status=500, message="System error"))
    assert system.value.transient
    with pytest.raises(CarrierError) as html:
        parsers.check_response(502, b"<html>Bad Gateway</html>")
    assert (html.value.code, html.value.transient) == ("http_502", True)


def test_duplicate_reference_carries_the_waybill_when_given() -> None:
    body = _doc(error=True, message="ORDER_NUMBER PH-1 đã tồn tại", data={"ORDER_NUMBER": "18"})
    with pytest.raises(DuplicateReference) as caught:
        parsers.check_response(200, body, reference="PH-1")
    assert (caught.value.reference, caught.value.existing_waybill) == ("PH-1", "18")


@pytest.mark.parametrize(
    "message",
    [
        "Order status already exists on the system",  # VTP-DOC §9.4, as documented
        "ORDER_NUMBER PH-1 đã tồn tại trên hệ thống",
        "Mã đơn hàng PH-1 đã tồn tại",
        "Order number PH-1 already exists",
    ],
)
def test_every_duplicate_wording_means_already_booked(message: str) -> None:
    with pytest.raises(DuplicateReference):
        parsers.check_response(200, _doc(error=True, message=message), reference="PH-1")


def test_a_missing_order_is_never_taken_for_a_duplicate() -> None:
    with pytest.raises(CarrierError) as caught:
        parsers.check_response(
            200, _doc(error=True, message="Order does not exist"), reference="PH-1"
        )
    assert caught.value.code == "not_found"


def test_create_and_price_parsers() -> None:
    data = {"ORDER_NUMBER": "1800000000009", "MONEY_TOTAL": 33000, "SORT_CODE": "79-09"}
    booked = parsers.parse_create({"data": data}, "PH-9")
    assert (booked.waybill, booked.fee_vnd, booked.sort_code) == ("1800000000009", 33000, "79-09")
    quotes = parsers.parse_price_all(
        [{"MA_DV_CHINH": "VTK", "GIA_CUOC": 1}, {"MA_DV_CHINH": "VCN", "GIA_CUOC": 2}]
    )
    assert parsers.choose_service(quotes, None) == "VCN"
    assert parsers.choose_service(quotes, "VTK") == "VTK"
    assert parsers.choose_service(quotes[:1], "LCOD") == "VTK"
    with pytest.raises(CarrierError):
        parsers.choose_service([], None)
    assert parsers.parse_printing_code({"message": " code-1 "}) == "code-1"


def test_place_matching_refuses_to_guess() -> None:
    places = [Place(1, "Phường Tân An"), Place(2, "Xã Tân An"), Place(3, "Phường  Buôn Ma Thuột")]

    assert find_place(places, "Xã Tân An") == Place(2, "Xã Tân An")
    assert find_place(places, "tan an") is None  # a phường and a xã: ambiguous
    assert find_place(places, "Buôn Ma Thuột") == Place(3, "Phường  Buôn Ma Thuột")
    assert find_place(places, "Hoà Bình") is None
