"""Shopee push verification (§2.3) and v2 API request signing (§2.5)."""

import hashlib
import hmac

import pytest

from integrations.platforms.shopee.signing import (
    api_sign,
    callback_url_variants,
    push_signature,
    verify_push,
)

PUSH_BODY = (
    b'{"data":{"items":[],"ordersn":"220810QSK8S7BX","status":"PROCESSED",'
    b'"completed_scenario":"","update_time":1660123127},"shop_id":727720655,"code":3,'
    b'"timestamp":1660123127}'
)

pytestmark = pytest.mark.pure
CALLBACK = "https://phien.example.vn/webhooks/shopee"


def _hmac(key: str, message: bytes) -> str:
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def test_push_signature_signs_url_pipe_body() -> None:
    expected = _hmac("partner-key", CALLBACK.encode() + b"|" + PUSH_BODY)
    assert push_signature("partner-key", CALLBACK, PUSH_BODY) == expected
    assert verify_push("partner-key", CALLBACK, PUSH_BODY, expected)


def test_push_with_one_changed_byte_or_other_url_fails() -> None:
    signature = push_signature("partner-key", CALLBACK, PUSH_BODY)
    tampered = PUSH_BODY.replace(b"PROCESSED", b"PROCESSEE")
    assert not verify_push("partner-key", CALLBACK, tampered, signature)
    assert not verify_push("partner-key", CALLBACK + "/", PUSH_BODY, signature)
    assert not verify_push("other-key", CALLBACK, PUSH_BODY, signature)
    assert not verify_push("partner-key", CALLBACK, PUSH_BODY, None)


def test_host_and_path_variant_is_accepted() -> None:
    # UNCONFIRMED which URL string Shopee signs; the scheme-less host+path form is accepted too.
    assert callback_url_variants(CALLBACK) == (CALLBACK, "phien.example.vn/webhooks/shopee")
    signature = _hmac("partner-key", b"phien.example.vn/webhooks/shopee|" + PUSH_BODY)
    assert verify_push("partner-key", CALLBACK, PUSH_BODY, signature)


def test_shop_level_api_sign() -> None:
    # partner_id + path + timestamp + access_token + shop_id, no separators. Pinned value
    # cross-checked with `printf '%s' "2001887/api/v2/…600000" | openssl dgst -sha256 -hmac …`.
    sign = api_sign(
        "sim_partner_key",
        2001887,
        "/api/v2/order/get_order_detail",
        1660123127,
        "c09222e3fc40ffb25fc947f738b1abf1",
        600000,
    )
    base = b"2001887/api/v2/order/get_order_detail1660123127c09222e3fc40ffb25fc947f738b1abf1600000"
    assert sign == _hmac("sim_partner_key", base)
    assert sign == "17e6be050f961693ed997167833a5a5d49ddb4d6a5060a73ff49f019add650f0"


def test_public_api_sign_drops_token_and_shop() -> None:
    sign = api_sign("sim_partner_key", 2001887, "/api/v2/auth/access_token/get", 1660123127)
    assert sign == _hmac("sim_partner_key", b"2001887/api/v2/auth/access_token/get1660123127")
    assert sign == "e3c6e8cb5dc114b5adcaf86ac12667dfba7f10b73ad0385aa8fe979d5da2accd"
