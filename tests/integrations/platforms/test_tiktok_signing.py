"""TikTok Shop webhook verification (§1.4 official vector) and API request signing (§1.7)."""

import hashlib
import hmac

import pytest

from integrations.platforms.tiktok_shop.signing import api_sign, verify_webhook, webhook_signature

pytestmark = pytest.mark.pure

# The official worked example from TikTok's webhook overview (reference §1.4), byte for byte.
OFFICIAL_BODY = (
    b'{"type":1,"tts_notification_id":"7380066284010030890","shop_id":"7495540735365777507",'
    b'"timestamp":1718305585,"data":{"is_on_hold_order":true,"order_id":"576653688135258178",'
    b'"order_status":"UNPAID","update_time":1718305585}}'
)
OFFICIAL_SIGNATURE = "5dec0f11ec2f6783b8deee53c9ffbf8d024302f7c7e7fa55a35d17629031ac05"


def test_official_vector_signature_is_reproduced() -> None:
    assert webhook_signature("abcdef", "123", OFFICIAL_BODY) == OFFICIAL_SIGNATURE


def test_official_vector_verifies() -> None:
    assert verify_webhook("abcdef", "123", OFFICIAL_BODY, OFFICIAL_SIGNATURE)


def test_one_changed_body_byte_fails() -> None:
    tampered = OFFICIAL_BODY.replace(b"UNPAID", b"UNPAIE")
    assert len(tampered) == len(OFFICIAL_BODY)
    assert not verify_webhook("abcdef", "123", tampered, OFFICIAL_SIGNATURE)


def test_one_changed_signature_character_fails() -> None:
    wrong = "6" + OFFICIAL_SIGNATURE[1:]
    assert not verify_webhook("abcdef", "123", OFFICIAL_BODY, wrong)


def test_missing_header_or_wrong_key_fails() -> None:
    assert not verify_webhook("abcdef", "123", OFFICIAL_BODY, None)
    assert not verify_webhook("abcdef", "123", OFFICIAL_BODY, "")
    assert not verify_webhook("abcdef", "124", OFFICIAL_BODY, OFFICIAL_SIGNATURE)
    # The prefix matters: a verifier that forgets app_key rejects every real event (§6).
    assert not verify_webhook("", "123", OFFICIAL_BODY, OFFICIAL_SIGNATURE)


def test_plain_sha256_variant_is_not_accepted() -> None:
    # One third-party doc claims sha256(secret + body); the reference shows it is wrong.
    plain = hashlib.sha256(b"123" + OFFICIAL_BODY).hexdigest()
    assert not verify_webhook("abcdef", "123", OFFICIAL_BODY, plain)


def _expected(secret: str, text: str) -> str:
    wrapped = (secret + text + secret).encode()
    return hmac.new(secret.encode(), wrapped, hashlib.sha256).hexdigest()


def test_api_sign_get_follows_documented_steps() -> None:
    params = {
        "timestamp": "1718305585",
        "app_key": "abcdef",
        "shop_cipher": "ROW_abc",
        "ids": "576653688135258178,576653688135258179",
        "access_token": "never-signed",
        "sign": "never-signed",
    }
    # Sorted keys, key+value without separators, path first, wrapped in the secret (§1.7).
    text = (
        "/order/202309/orders"
        "app_keyabcdef"
        "ids576653688135258178,576653688135258179"
        "shop_cipherROW_abc"
        "timestamp1718305585"
    )
    assert api_sign("123", "/order/202309/orders", params) == _expected("123", text)


def test_api_sign_appends_post_body_and_drops_arrays() -> None:
    params = {"app_key": "abcdef", "timestamp": 1718305585, "page_size": 20, "tags": ["x"]}
    body = b'{"update_time_ge":1718300000}'
    text = "/order/202309/orders/search" + "app_keyabcdefpage_size20timestamp1718305585"
    expected = _expected("123", text + body.decode())
    assert api_sign("123", "/order/202309/orders/search", params, body) == expected


def test_api_sign_known_value_is_stable() -> None:
    # Pinned value, cross-checked outside Python: printf '%s' "123/order/202309/orders…
    # timestamp1718305585123" | openssl dgst -sha256 -hmac 123
    params = {"app_key": "abcdef", "timestamp": "1718305585", "shop_cipher": "ROW_abc"}
    assert api_sign("123", "/order/202309/orders", {**params, "ids": "1"}) == (
        "afe4624765656434ae7e1f66ef8bfa609b5ffa344550d1e5ae83411608e05155"
    )
