"""Webhook signatures sign the URL and the exact bytes; nothing less is accepted (item 16)."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from integrations.platforms.shopee.signing import api_sign, callback_url_variants, verify_push
from integrations.platforms.tiktok_shop.signing import verify_webhook, webhook_signature

pytestmark = pytest.mark.pure

BODY = b'{"data":{"ordersn":"220810QSK8S7BX","status":"PROCESSED"},"shop_id":727720655,"code":3}'
CALLBACK = "https://phien.example.vn/webhooks/shopee"
KEY = "partner-key"


def _hmac(key: str, message: bytes) -> str:
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def test_a_shopee_signature_over_the_body_without_the_url_is_refused() -> None:
    assert not verify_push(KEY, CALLBACK, BODY, _hmac(KEY, BODY))
    assert not verify_push(KEY, CALLBACK, BODY, _hmac(KEY, b"|" + BODY))
    assert not verify_push(KEY, CALLBACK, BODY, _hmac(KEY, CALLBACK.encode() + BODY))


def test_an_empty_url_is_never_a_variant() -> None:
    # A callback URL with nothing after the scheme must not make "|" + body a valid message.
    assert "" not in callback_url_variants("https://")
    assert not verify_push(KEY, "https://", BODY, _hmac(KEY, b"|" + BODY))


def test_a_callback_url_with_a_query_keeps_it_in_both_forms() -> None:
    url = CALLBACK + "?tenant=lai-chau&v=2"
    assert callback_url_variants(url) == (
        url,
        "phien.example.vn/webhooks/shopee?tenant=lai-chau&v=2",
    )
    signature = _hmac(KEY, b"phien.example.vn/webhooks/shopee?tenant=lai-chau&v=2|" + BODY)
    assert verify_push(KEY, url, BODY, signature)
    assert not verify_push(KEY, CALLBACK, BODY, signature)


def test_a_url_without_a_scheme_has_one_form() -> None:
    assert callback_url_variants("/webhooks/shopee") == ("/webhooks/shopee",)


def test_headers_that_are_not_ascii_are_refused_not_crashed() -> None:
    for header in ("\ud800", "chữ ký", " "):
        assert not verify_push(KEY, CALLBACK, BODY, header)
        assert not verify_webhook("app-key", "app-secret", BODY, header)


def test_a_signature_with_spaces_around_it_still_verifies() -> None:
    shopee = _hmac(KEY, CALLBACK.encode() + b"|" + BODY)
    assert verify_push(KEY, CALLBACK, BODY, f"  {shopee}\n")
    tiktok = webhook_signature("app-key", "app-secret", BODY)
    assert verify_webhook("app-key", "app-secret", BODY, f" {tiktok} ")


def test_a_tiktok_signature_without_the_app_key_is_refused() -> None:
    assert not verify_webhook("app-key", "app-secret", BODY, _hmac("app-secret", BODY))
    assert verify_webhook("app-key", "app-secret", BODY, _hmac("app-secret", b"app-key" + BODY))


def test_a_shop_call_signs_token_and_shop_only_when_it_has_both() -> None:
    public = api_sign(KEY, 2001887, "/api/v2/order/get_order_detail", 1660123127)
    assert api_sign(KEY, 2001887, "/api/v2/order/get_order_detail", 1660123127, "tok") == public
    assert (
        api_sign(KEY, 2001887, "/api/v2/order/get_order_detail", 1660123127, None, 600000) == public
    )
