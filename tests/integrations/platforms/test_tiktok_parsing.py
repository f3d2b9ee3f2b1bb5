"""Parsing TikTok Shop webhook envelopes, 202309 orders and the code/message error envelope."""

from typing import Any

import orjson
import pytest

from integrations.platforms.tiktok_shop.parsing import (
    parse_envelope,
    parse_order,
    parse_verified_webhook,
    parse_webhook,
)
from integrations.platforms.types import (
    PlatformAuthError,
    PlatformError,
    PlatformPayloadError,
    SignatureError,
)

from .test_tiktok_signing import OFFICIAL_BODY, OFFICIAL_SIGNATURE

pytestmark = pytest.mark.pure


def test_official_sample_becomes_platform_webhook() -> None:
    webhook = parse_verified_webhook("abcdef", "123", OFFICIAL_BODY, OFFICIAL_SIGNATURE)
    assert webhook.platform == "tiktok_shop"
    assert webhook.event_key == "7380066284010030890"
    assert webhook.topic == "ORDER_STATUS_CHANGE"
    assert webhook.shop_id == "7495540735365777507"
    assert webhook.order_id == "576653688135258178"
    assert webhook.status == "UNPAID"
    assert webhook.update_time == 1718305585


def test_bad_signature_raises_signature_error() -> None:
    with pytest.raises(SignatureError):
        parse_verified_webhook("abcdef", "123", OFFICIAL_BODY, "0" * 64)


@pytest.mark.parametrize("spelling", ["CANCEL", "CANCELLED"])
def test_both_cancel_spellings_are_accepted(spelling: str) -> None:
    body = OFFICIAL_BODY.replace(b'"UNPAID"', f'"{spelling}"'.encode())
    assert parse_webhook(body).status == "CANCELLED"


def test_other_topics_keep_a_name_and_no_order() -> None:
    body = orjson.dumps(
        {"type": 6, "tts_notification_id": "n-1", "shop_id": "1", "timestamp": 1, "data": {}}
    )
    webhook = parse_webhook(body)
    assert (webhook.topic, webhook.order_id, webhook.status) == (
        "SELLER_DEAUTHORIZATION",
        None,
        None,
    )


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"type":1,"shop_id":"1"}'])
def test_malformed_webhooks_are_payload_errors(body: bytes) -> None:
    with pytest.raises(PlatformPayloadError):
        parse_webhook(body)


def _line(n: int, sku: str, price: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"57665368813525817{n}",
        "product_id": "1729384756",
        "product_name": "Gạo Séng Cù túi 5 kg",
        "sku_id": sku,
        "seller_sku": f"SKU-{sku}",
        "sku_name": "Túi 5 kg",
        "original_price": "200000",
        "sale_price": price,
        "currency": "VND",
        "display_status": "AWAITING_SHIPMENT",
        "package_status": "TO_FULFILL",
        "is_gift": False,
        **extra,
    }


ORDER: dict[str, Any] = {
    "id": "576653688135258178",
    "status": "AWAITING_SHIPMENT",
    "create_time": 1718305585,
    "update_time": 1718305600,
    "is_cod": True,
    "payment": {
        "currency": "VND",
        "sub_total": "555000.5",
        "shipping_fee": "30000",
        "total_amount": "585000.50",
    },
    "recipient_address": {
        "name": "Vàng Thị Mai",
        "phone_number": "(+84)912345678",
        "full_address": "Bản Nà Luồng, Xã Bình Lư, Huyện Tam Đường, Lai Châu",
        "address_detail": "Bản Nà Luồng",
        "postal_code": "391000",
        "district_info": [
            {"address_level": "L0", "address_level_name": "Country", "address_name": "Vietnam"},
            {"address_level": "L1", "address_level_name": "Province", "address_name": "Lai Châu"},
            {"address_level": "L2", "address_level_name": "District", "address_name": "Tam Đường"},
            {"address_level": "L3", "address_level_name": "Ward", "address_name": "Xã Bình Lư"},
        ],
    },
    "line_items": [
        _line(1, "1729001", "185000"),
        _line(2, "1729001", "185000"),
        _line(3, "1729002", "185000.5"),
        _line(4, "1729001", "185000"),
        _line(5, "1729001", "0", is_gift=True),
    ],
}


def test_multi_unit_order_is_grouped_by_sku() -> None:
    order = parse_order(ORDER, "7495540735365777507")
    by_sku = {(line.platform_sku_id, line.unit_price): line.quantity for line in order.lines}
    # Three units of 1729001 at the live price, the gift unit apart, 1729002 rounded half up.
    assert by_sku == {("1729001", 185000): 3, ("1729002", 185001): 1, ("1729001", 0): 1}
    first = order.lines[0]
    assert (first.seller_sku, first.product_name, first.sku_name) == (
        "SKU-1729001",
        "Gạo Séng Cù túi 5 kg",
        "Túi 5 kg",
    )


def test_order_header_amounts_and_address() -> None:
    order = parse_order(ORDER, "7495540735365777507")
    assert (order.order_id, order.status, order.is_cod) == (
        "576653688135258178",
        "AWAITING_SHIPMENT",
        True,
    )
    assert (order.total_amount, order.shipping_fee, order.currency) == (585001, 30000, "VND")
    assert (order.create_time, order.update_time) == (1718305585, 1718305600)
    assert order.buyer_name == "Vàng Thị Mai"
    assert order.address.province == "Lai Châu"
    assert order.address.commune == "Xã Bình Lư"
    assert order.address.district == "Tam Đường"
    assert order.address.street == "Bản Nà Luồng"
    assert order.address.postal_code == "391000"


def test_order_repr_hides_the_phone_number() -> None:
    order = parse_order(ORDER, "7495540735365777507")
    assert "912345678" not in repr(order)
    assert order.masked_phone.endswith("678")
    assert "912345" not in order.masked_phone


def test_two_tier_address_without_district() -> None:
    recipient = dict(ORDER["recipient_address"])
    recipient["district_info"] = [
        {"address_level": "L0", "address_level_name": "Country", "address_name": "Vietnam"},
        {"address_level": "L1", "address_level_name": "Province", "address_name": "Đắk Lắk"},
        {"address_level": "L2", "address_level_name": "Ward", "address_name": "Phường Ea Kao"},
    ]
    order = parse_order({**ORDER, "recipient_address": recipient}, "1")
    assert (order.address.province, order.address.commune, order.address.district) == (
        "Đắk Lắk",
        "Phường Ea Kao",
        None,
    )


def test_negative_or_nan_amount_is_rejected() -> None:
    for bad in ("-1", "NaN"):
        payment = {**ORDER["payment"], "total_amount": bad}
        with pytest.raises(PlatformPayloadError, match="total_amount"):
            parse_order({**ORDER, "payment": payment}, "1")


def test_success_envelope_returns_data() -> None:
    assert parse_envelope(200, {"code": 0, "message": "Success", "data": {"orders": []}}) == {
        "orders": []
    }


@pytest.mark.parametrize("code", [105001, 105005, 360001, 106001])
def test_token_and_credential_codes_are_auth_errors(code: int) -> None:
    with pytest.raises(PlatformAuthError) as caught:
        parse_envelope(401, {"code": code, "message": "nope", "request_id": "r-1"})
    assert (caught.value.code, caught.value.transient, caught.value.request_id) == (
        str(code),
        False,
        "r-1",
    )


@pytest.mark.parametrize(
    ("status", "message", "transient"),
    [
        (500, "Internal error", True),
        (429, "slow down", True),
        (200, "Rate limit exceeded", True),
        (400, "Invalid parameter", False),
    ],
)
def test_other_errors_carry_transience(status: int, message: str, transient: bool) -> None:
    with pytest.raises(PlatformError) as caught:
        parse_envelope(status, {"code": 36009004, "message": message})
    assert caught.value.transient is transient
    assert not isinstance(caught.value, PlatformAuthError)
