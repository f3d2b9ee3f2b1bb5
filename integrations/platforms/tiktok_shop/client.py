"""Thin async HTTP client for the TikTok Shop Open API (202309 order APIs, shop authorisation)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import httpx
import orjson

from integrations.platforms import _http
from integrations.platforms.tiktok_shop.parsing import parse_envelope, parse_orders
from integrations.platforms.tiktok_shop.signing import api_sign
from integrations.platforms.types import (
    TIKTOK_SHOP,
    AuthorizedShop,
    PlatformOrder,
    PlatformPayloadError,
    TokenPair,
)

API_BASE_URL = "https://open-api.tiktokglobalshop.com"
AUTH_BASE_URL = "https://auth.tiktok-shops.com"

ORDERS_PATH = "/order/202309/orders"
SEARCH_PATH = "/order/202309/orders/search"
REFRESH_PATH = "/api/v2/token/refresh"
# §1.8: the seller consents on the auth host, which sends them back to the redirect URL
# registered for the app with `code` and our `state`; the code is exchanged on the auth host.
AUTHORIZE_PATH = "/oauth/authorize"
CODE_EXCHANGE_PATH = "/api/v2/token/get"
AUTHORIZED_SHOPS_PATH = "/authorization/202309/shops"

MAX_IDS_PER_CALL = 50  # §1.6 [S]: Get Order Detail takes at most 50 ids


class TikTokShopClient:
    """Signed calls to TikTok Shop; every failure surfaces as a `PlatformError` (no retry loop)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        app_key: str,
        app_secret: str,
        *,
        timeout: httpx.Timeout = _http.DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._app_key = app_key
        self._app_secret = app_secret
        self._timeout = timeout
        self._clock = clock

    def __repr__(self) -> str:
        return f"TikTokShopClient(base_url={self._base_url!r}, app_key={self._app_key!r})"

    async def get_orders(
        self, shop_cipher: str, access_token: str, order_ids: Sequence[str], *, shop_id: str
    ) -> list[PlatformOrder]:
        """Fetch full orders by id (Get Order Detail), 50 ids per call."""
        # `shop_id` is ours to supply: the order object names no shop, calls address it by cipher.
        orders: list[PlatformOrder] = []
        for start in range(0, len(order_ids), MAX_IDS_PER_CALL):
            chunk = order_ids[start : start + MAX_IDS_PER_CALL]
            params = {"ids": ",".join(chunk), "shop_cipher": shop_cipher}
            data = await self._call("GET", ORDERS_PATH, params, access_token)
            orders.extend(parse_orders(data, shop_id))
        return orders

    async def search_orders(
        self,
        shop_cipher: str,
        access_token: str,
        update_time_ge: int,
        page_token: str | None = None,
        *,
        shop_id: str,
        page_size: int = 50,
    ) -> tuple[list[PlatformOrder], str | None]:
        """One page of orders updated at or after `update_time_ge`, plus the next page token."""
        params = {"page_size": str(page_size), "shop_cipher": shop_cipher}
        if page_token:
            params["page_token"] = page_token
        body = orjson.dumps({"update_time_ge": update_time_ge})
        data = await self._call("POST", SEARCH_PATH, params, access_token, body)
        next_token = data.get("next_page_token") or None
        return parse_orders(data, shop_id), str(next_token) if next_token else None

    def authorization_url(self, auth_base_url: str, state: str) -> str:
        """The consent page a seller opens to authorise our app for their shop."""
        query = urlencode({"app_key": self._app_key, "state": state})
        return f"{auth_base_url.rstrip('/')}{AUTHORIZE_PATH}?{query}"

    async def get_token(self, auth_base_url: str, auth_code: str) -> TokenPair:
        """Exchange the `code` of an authorisation redirect for the seller's token pair."""
        params = {"auth_code": auth_code, "grant_type": "authorized_code"}
        return await self._auth_call(auth_base_url, CODE_EXCHANGE_PATH, params)

    async def refresh_token(self, auth_base_url: str, refresh_token: str) -> TokenPair:
        """Exchange a refresh token for a new pair (§1.8: expiries are absolute timestamps)."""
        params = {"refresh_token": refresh_token, "grant_type": "refresh_token"}
        return await self._auth_call(auth_base_url, REFRESH_PATH, params)

    async def get_authorized_shops(self, access_token: str) -> list[AuthorizedShop]:
        """The shops this token may act for, with the cipher each shop-scoped call needs."""
        data = await self._call("GET", AUTHORIZED_SHOPS_PATH, {}, access_token)
        return parse_authorized_shops(data)

    async def _auth_call(
        self, auth_base_url: str, path: str, params: Mapping[str, str]
    ) -> TokenPair:
        # §1.8: the auth host takes the app secret in the query string, unsigned.
        query = {"app_key": self._app_key, "app_secret": self._app_secret, **params}
        url = auth_base_url.rstrip("/") + path
        response = await _http.send(
            self._http, "GET", url, platform=TIKTOK_SHOP, params=query, http_timeout=self._timeout
        )
        return parse_token(self._envelope_data(response))

    async def _call(
        self,
        method: str,
        path: str,
        params: Mapping[str, str],
        access_token: str,
        body: bytes | None = None,
    ) -> dict[str, Any]:
        query = {**params, "app_key": self._app_key, "timestamp": str(int(self._clock()))}
        query["sign"] = api_sign(self._app_secret, path, query, body)
        headers = {"x-tts-access-token": access_token, "content-type": "application/json"}
        response = await _http.send(
            self._http,
            method,
            self._base_url + path,
            platform=TIKTOK_SHOP,
            params=query,
            content=body,
            headers=headers,
            http_timeout=self._timeout,
        )
        return self._envelope_data(response)

    @staticmethod
    def _envelope_data(response: httpx.Response) -> dict[str, Any]:
        # Success is `code == 0` in the body, whatever the HTTP status (§1.6); a body without an
        # envelope (proxy error page) is classified by HTTP status alone.
        body = _http.decode_json_object(response, platform=TIKTOK_SHOP)
        if body is None or "code" not in body:
            _http.raise_for_unreadable(response, platform=TIKTOK_SHOP)
        return parse_envelope(response.status_code, body)


def parse_token(data: Mapping[str, Any]) -> TokenPair:
    """Parse the `data` of a token get/refresh response into a `TokenPair`."""
    try:
        return TokenPair(
            access_token=str(data["access_token"]),
            refresh_token=str(data["refresh_token"]),
            access_expires_at=_absolute(data["access_token_expire_in"]),
            refresh_expires_at=_absolute(data["refresh_token_expire_in"]),
        )
    except (KeyError, TypeError, ValueError):
        raise PlatformPayloadError("token response is incomplete", platform=TIKTOK_SHOP) from None


def parse_authorized_shops(data: Mapping[str, Any]) -> list[AuthorizedShop]:
    """Parse `data.shops` of Get Authorized Shops (id, name, cipher, region per shop)."""
    shops = data.get("shops")
    if not isinstance(shops, list):
        raise PlatformPayloadError("data.shops is not a list", platform=TIKTOK_SHOP)
    parsed = []
    for shop in shops:
        if not isinstance(shop, dict) or not shop.get("id") or not shop.get("cipher"):
            raise PlatformPayloadError("a shop without id or cipher", platform=TIKTOK_SHOP)
        parsed.append(
            AuthorizedShop(
                platform=TIKTOK_SHOP,
                shop_id=str(shop["id"]),
                name=str(shop.get("name") or ""),
                cipher=str(shop["cipher"]),
                region=str(shop.get("region") or ""),
            )
        )
    return parsed


def _absolute(value: object) -> datetime:
    # §1.8: `*_expire_in` is an absolute Unix timestamp, not a duration.
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError("expiry is not an integer")
    return datetime.fromtimestamp(int(value), tz=UTC)
