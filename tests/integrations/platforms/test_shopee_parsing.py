"""Parsing Shopee pushes, get_order_detail orders, lost pushes and the error envelope."""

import hashlib
from typing import Any

import orjson
import pytest

from integrations.platforms.shopee.parsing import (
    parse_lost_push_page,
    parse_order,
    parse_order_list,
    parse_push,
    parse_verified_push,
    raise_for_error,
)
from integrations.platforms.shopee.signing import push_signature
from integrations.platforms.types import (
    PlatformAuthError,
    PlatformError,
    PlatformPayloadError,
    SignatureError,
)

from .test_shopee_signing import CALLBACK, PUSH_BODY

pytestmark = pytest.mark.pure


def test_order_status_push_from_reference_sample() -> None:
    signature = push_signature("partner-key", CALLBACK, PUSH_BODY)
    webhook = parse_verified_push("partner-key", CALLBACK, PUSH_BODY, signature)
    assert webhook.platform == "shopee"
    assert webhook.event_key == "727720655:220810QSK8S7BX:PROCESSED:1660123127"
    assert webhook.topic == "order_status_update"
    assert (webhook.shop_id, webhook.order_id, webhook.status, webhook.update_time) == (
        "727720655",
        "220810QSK8S7BX",
        "PROCESSED",
        1660123127,
    )


def test_bad_push_signature_raises() -> None:
    with pytest.raises(SignatureError):
        parse_verified_push("partner-key", CALLBACK, PUSH_BODY, "0" * 64)


def test_non_order_push_key_is_stable_and_body_bound() -> None:
    body = orjson.dumps({"code": 12, "timestamp": 1660123127, "data": {"expire_time": 1}})
    webhook = parse_push(body)
    digest = hashlib.sha256(body).hexdigest()
    assert webhook.event_key == f"12::1660123127:{digest}"
    assert (webhook.topic, webhook.shop_id, webhook.order_id) == (
        "open_api_authorization_expiry",
        "",
        None,
    )
    assert parse_push(body).event_key == webhook.event_key


def test_verification_push_is_recognised() -> None:
    body = (
        b'{"code":0,"data":{"verify_info":"This is a Verification message.'
        b'Please respond in the certain format."}}'
    )
    assert parse_push(body).topic == "verification"


def test_order_push_without_update_time_is_rejected() -> None:
    with pytest.raises(PlatformPayloadError):
        parse_push(b'{"code":3,"shop_id":1,"data":{"ordersn":"X","status":"UNPAID"}}')


ITEM: dict[str, Any] = {
    "item_id": 2600144043,
    "item_name": "Mật ong rừng Lai Châu",
    "item_sku": "MATONG",
    "model_id": 1001,
    "model_name": "Chai 500 ml",
    "model_sku": "MATONG-500",
    "model_quantity_purchased": 3,
    "model_original_price": 260000.0,
    "model_discounted_price": 249999.5,
    "order_item_id": 1,
}

ORDER: dict[str, Any] = {
    "order_sn": "251121ABCD1234",
    "region": "VN",
    "currency": "VND",
    "cod": True,
    "order_status": "READY_TO_SHIP",
    "create_time": 1763700000,
    "update_time": 1763700100,
    "total_amount": 780000.5,
    "estimated_shipping_fee": 30000.0,
    "actual_shipping_fee": 0.0,
    "recipient_address": {
        "name": "Lê Thị Lan",
        "phone": "84912345678",
        "town": "",
        "district": "Phường Ba Đình",
        "city": "",
        "state": "Thành phố Hà Nội",
        "region": "VN",
        "zipcode": "100000",
        "full_address": "Số 12 phố Phan Đình Phùng, Phường Ba Đình, Thành phố Hà Nội",
    },
    "item_list": [
        ITEM,
        {
            **ITEM,
            "model_id": 0,
            "model_sku": "",
            "model_quantity_purchased": 1,
            "model_discounted_price": 0.0,
            "model_original_price": 99000.0,
        },
    ],
}


def test_order_floats_become_int_vnd() -> None:
    order = parse_order(ORDER, "727720655")
    assert (order.total_amount, order.shipping_fee, order.is_cod) == (780001, 30000, True)
    assert (order.order_id, order.status, order.shop_id) == (
        "251121ABCD1234",
        "READY_TO_SHIP",
        "727720655",
    )
    first, bundle = order.lines
    assert (first.platform_sku_id, first.seller_sku, first.quantity, first.unit_price) == (
        "2600144043:1001",
        "MATONG-500",
        3,
        250000,
    )
    # A bundle-deal item reports 0; the listing price is used instead.
    assert (bundle.platform_sku_id, bundle.seller_sku, bundle.unit_price) == (
        "2600144043:0",
        "MATONG",
        99000,
    )


def test_order_address_two_tier_and_legacy() -> None:
    address = parse_order(ORDER, "1").address
    assert (address.province, address.commune, address.district) == (
        "Thành phố Hà Nội",
        "Phường Ba Đình",
        None,
    )
    assert address.street == "Số 12 phố Phan Đình Phùng"
    legacy = {**ORDER["recipient_address"], "city": "Quận Ba Đình", "district": "Phường Điện Biên"}
    address = parse_order({**ORDER, "recipient_address": legacy}, "1").address
    assert (address.district, address.commune) == ("Quận Ba Đình", "Phường Điện Biên")


@pytest.mark.parametrize("bad", [float("nan"), -5.0])
def test_nan_or_negative_float_is_rejected(bad: float) -> None:
    with pytest.raises(PlatformPayloadError, match="total_amount"):
        parse_order({**ORDER, "total_amount": bad}, "1")


def test_error_envelope_classification() -> None:
    raise_for_error(200, {"error": "", "message": "", "request_id": "r"})
    with pytest.raises(PlatformAuthError) as auth:
        raise_for_error(403, {"error": "error_sign", "message": "Wrong sign.", "request_id": "r"})
    assert (auth.value.code, auth.value.request_id) == ("error_sign", "r")
    with pytest.raises(PlatformAuthError):
        raise_for_error(403, {"error": "common.error_auth", "message": "Invalid access_token."})
    with pytest.raises(PlatformError) as server:
        raise_for_error(500, {"error": "error_server", "message": "Something wrong."})
    assert server.value.transient
    with pytest.raises(PlatformError) as window:
        raise_for_error(400, {"error": "order.order_list_invalid_time", "message": "15days"})
    assert not window.value.transient
    assert not isinstance(window.value, PlatformAuthError)


def test_order_list_page_and_end() -> None:
    page = {"more": True, "next_cursor": "20", "order_list": [{"order_sn": "A"}, {"order_sn": "B"}]}
    assert parse_order_list(page) == (["A", "B"], "20")
    assert parse_order_list({"more": False, "next_cursor": "", "order_list": []}) == ([], None)


def test_lost_push_page_keeps_raw_body() -> None:
    response = {
        "push_message_list": [
            {"shop_id": 727720655, "code": 3, "timestamp": 1660123127, "data": PUSH_BODY.decode()}
        ],
        "has_next_page": False,
        "last_message_id": 176610,
    }
    page = parse_lost_push_page(response)
    assert page.last_message_id == 176610
    assert not page.has_next_page
    (message,) = page.messages
    assert message.raw_body == PUSH_BODY
    assert message.webhook.event_key == "727720655:220810QSK8S7BX:PROCESSED:1660123127"
