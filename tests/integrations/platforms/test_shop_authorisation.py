"""The real clients through each platform's shop authorisation, against the simulators."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from integrations.platforms.shopee.client import ShopeeClient
from integrations.platforms.tiktok_shop.client import TikTokShopClient
from integrations.platforms.types import PlatformAuthError, PlatformError
from integrations.simulators.serve import serve_in_background
from integrations.simulators.shopee import ShopeeSimConfig
from integrations.simulators.shopee import create_app as create_shopee_app
from integrations.simulators.tiktok_shop import TikTokShopSimConfig
from integrations.simulators.tiktok_shop import create_app as create_tiktok_app

BACK = "http://127.0.0.1:9/oauth/callback"  # never followed: the tests read the redirect
TT_SHOPS = {"7495540735365777507": "ROW_cipher_binh_lu", "7495540735365770001": "ROW_cipher_other"}
SP_SHOPS = (727720655, 727720656)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10.0) as client:
        yield client


@pytest.fixture
async def tiktok_url() -> AsyncIterator[str]:
    config = TikTokShopSimConfig(app_key="tk", app_secret="ts", shops=TT_SHOPS, redirect_url=BACK)
    async with serve_in_background(create_tiktok_app(config)) as url:
        yield url


@pytest.fixture
async def shopee_url() -> AsyncIterator[str]:
    config = ShopeeSimConfig(partner_id=2001887, partner_key="pk", shop_ids=SP_SHOPS)
    async with serve_in_background(create_shopee_app(config)) as url:
        yield url


async def _consent(http: httpx.AsyncClient, url: str, form: dict[str, str]) -> dict[str, str]:
    answer = await http.post(url, data=form)
    assert answer.status_code == 302, answer.text
    return {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["location"]).query).items()}


async def test_tiktok_code_exchange_and_authorized_shops(
    http: httpx.AsyncClient, tiktok_url: str
) -> None:
    client = TikTokShopClient(http, tiktok_url, "tk", "ts")
    link = client.authorization_url(tiktok_url, "state-8c1f")
    assert (await http.get(link)).status_code == 200
    form = {"app_key": "tk", "state": "state-8c1f", "shop_id": "7495540735365777507"}
    back = await _consent(http, f"{tiktok_url}/oauth/authorize", form)
    assert (back["state"], back["app_key"]) == ("state-8c1f", "tk")
    tokens = await client.get_token(tiktok_url, back["code"])
    (shop,) = await client.get_authorized_shops(tokens.access_token)
    assert (shop.shop_id, shop.cipher, shop.region) == (
        "7495540735365777507",
        "ROW_cipher_binh_lu",
        "VN",
    )
    # The token acts for the consenting seller's shop only, and the code works once.
    with pytest.raises(PlatformError, match="shop_cipher"):
        await client.get_orders("ROW_cipher_other", tokens.access_token, ["1"], shop_id="x")
    with pytest.raises(PlatformAuthError):
        await client.get_token(tiktok_url, back["code"])


async def test_shopee_signed_link_code_exchange_and_shop_info(
    http: httpx.AsyncClient, shopee_url: str
) -> None:
    client = ShopeeClient(http, shopee_url, 2001887, "pk")
    link = client.authorization_url(f"{BACK}?state=st-31")
    assert (await http.get(link)).status_code == 200
    params = {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}
    assert params["redirect"] == f"{BACK}?state=st-31"
    forged = {**params, "sign": "0" * 64}
    assert (
        await http.get(f"{shopee_url}/api/v2/shop/auth_partner", params=forged)
    ).status_code == 403
    back = await _consent(
        http, f"{shopee_url}/api/v2/shop/auth_partner", {**params, "shop_id": "727720655"}
    )
    assert (back["state"], back["shop_id"]) == ("st-31", "727720655")
    tokens = await client.get_access_token(back["code"], 727720655)
    shop = await client.get_shop_info(727720655, tokens.access_token)
    assert (shop.shop_id, shop.region) == ("727720655", "VN")
    with pytest.raises(PlatformAuthError):
        await client.get_shop_info(727720656, tokens.access_token)
    with pytest.raises(PlatformError, match="invalid_code"):
        await client.get_access_token(back["code"], 727720655)
    again = await _consent(
        http, f"{shopee_url}/api/v2/shop/auth_partner", {**params, "shop_id": "727720655"}
    )
    with pytest.raises(PlatformError, match="invalid_shop_id"):
        await client.get_access_token(again["code"], 727720656)
