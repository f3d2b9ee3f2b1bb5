"""Thin async HTTP client for the Shopee Open Platform v2 (orders, lost pushes, shop auth)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import orjson

from integrations.platforms import _http
from integrations.platforms.shopee.parsing import (
    LostPushPage,
    parse_lost_push_page,
    parse_order_list,
    parse_orders,
    raise_for_error,
    response_of,
)
from integrations.platforms.shopee.signing import api_sign
from integrations.platforms.types import (
    SHOPEE,
    AuthorizedShop,
    PlatformOrder,
    PlatformPayloadError,
    TokenPair,
)

API_BASE_URL = "https://partner.shopeemobile.com"

ORDER_DETAIL_PATH = "/api/v2/order/get_order_detail"
ORDER_LIST_PATH = "/api/v2/order/get_order_list"
LOST_PUSH_PATH = "/api/v2/push/get_lost_push_message"
CONFIRM_LOST_PUSH_PATH = "/api/v2/push/confirm_consumed_lost_push_message"
REFRESH_PATH = "/api/v2/auth/access_token/get"
# Partner authorisation: the seller consents on Shopee's page, which redirects to our link's
# `redirect` with `code` and `shop_id` added; the code (single use, 10 min) is exchanged here.
AUTH_PARTNER_PATH = "/api/v2/shop/auth_partner"
CODE_EXCHANGE_PATH = "/api/v2/auth/token/get"
SHOP_INFO_PATH = "/api/v2/shop/get_shop_info"

MAX_ORDER_SNS_PER_CALL = 50  # §2.5: order_sn_list takes 1–50
MAX_LIST_WINDOW_SECONDS = 15 * 24 * 3600  # get_order_list refuses wider windows
# §2.5: refresh tokens live 30 days; the refresh response states only the access token's life.
REFRESH_TOKEN_LIFETIME = timedelta(days=30)

# Only a few fields come back by default (§2.5); these are the ones PlatformOrder needs.
DETAIL_OPTIONAL_FIELDS = ",".join(
    (
        "buyer_user_id",
        "buyer_username",
        "recipient_address",
        "item_list",
        "total_amount",
        "payment_method",
        "pay_time",
        "estimated_shipping_fee",
        "actual_shipping_fee",
        "shipping_carrier",
        "cancel_reason",
    )
)


class ShopeeClient:
    """Signed calls to Shopee v2; every failure surfaces as a `PlatformError` (no retry loop)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        partner_id: int,
        partner_key: str,
        *,
        timeout: httpx.Timeout = _http.DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._partner_id = partner_id
        self._partner_key = partner_key
        self._timeout = timeout
        self._clock = clock

    def __repr__(self) -> str:
        return f"ShopeeClient(base_url={self._base_url!r}, partner_id={self._partner_id})"

    async def get_order_detail(
        self, shop_id: int, access_token: str, order_sns: Sequence[str]
    ) -> list[PlatformOrder]:
        """Fetch full orders by order_sn, 50 per call, amounts converted to int VND."""
        orders: list[PlatformOrder] = []
        for start in range(0, len(order_sns), MAX_ORDER_SNS_PER_CALL):
            params = {
                "order_sn_list": ",".join(order_sns[start : start + MAX_ORDER_SNS_PER_CALL]),
                "response_optional_fields": DETAIL_OPTIONAL_FIELDS,
            }
            body = await self._shop_call("GET", ORDER_DETAIL_PATH, shop_id, access_token, params)
            orders.extend(parse_orders(response_of(body.status, body.json), str(shop_id)))
        return orders

    async def get_order_list(
        self,
        shop_id: int,
        access_token: str,
        time_from: int,
        time_to: int,
        cursor: str | None = None,
        *,
        page_size: int = 100,
    ) -> tuple[list[str], str | None]:
        """Order numbers updated in [time_from, time_to] (≤ 15 days) and the next cursor."""
        if not 0 <= time_to - time_from <= MAX_LIST_WINDOW_SECONDS:
            raise ValueError("get_order_list needs time_from <= time_to within 15 days")
        params = {
            "time_range_field": "update_time",
            "time_from": str(time_from),
            "time_to": str(time_to),
            "page_size": str(page_size),
            "cursor": cursor or "",
            "response_optional_fields": "order_status",
        }
        body = await self._shop_call("GET", ORDER_LIST_PATH, shop_id, access_token, params)
        return parse_order_list(response_of(body.status, body.json))

    async def get_lost_push_message(self) -> LostPushPage:
        """The earliest 100 pushes lost in the last 3 days and not yet confirmed."""
        body = await self._public_call("GET", LOST_PUSH_PATH)
        return parse_lost_push_page(response_of(body.status, body.json))

    async def confirm_consumed_lost_push_message(self, last_message_id: int) -> None:
        """Tell Shopee that lost pushes up to `last_message_id` are stored."""
        payload = orjson.dumps({"last_message_id": last_message_id})
        body = await self._public_call("POST", CONFIRM_LOST_PUSH_PATH, payload)
        raise_for_error(body.status, body.json)

    async def refresh_token(self, shop_id: int, refresh_token: str) -> TokenPair:
        """Trade a (single-use) refresh token for a new pair; the caller must persist both."""
        payload = orjson.dumps(
            {"refresh_token": refresh_token, "partner_id": self._partner_id, "shop_id": shop_id}
        )
        issued_at = datetime.fromtimestamp(int(self._clock()), tz=UTC)
        body = await self._public_call("POST", REFRESH_PATH, payload)
        raise_for_error(body.status, body.json)
        return parse_token(body.json, issued_at)

    def authorization_url(self, redirect_url: str) -> str:
        """The partner authorisation link, signed over partner_id + path + timestamp."""
        timestamp = int(self._clock())
        query = {
            "partner_id": str(self._partner_id),
            "timestamp": str(timestamp),
            "sign": api_sign(self._partner_key, self._partner_id, AUTH_PARTNER_PATH, timestamp),
            "redirect": redirect_url,
        }
        return f"{self._base_url}{AUTH_PARTNER_PATH}?{urlencode(query)}"

    async def get_access_token(self, code: str, shop_id: int) -> TokenPair:
        """Exchange the `code` of an authorisation redirect for this shop's token pair."""
        payload = orjson.dumps({"code": code, "shop_id": shop_id, "partner_id": self._partner_id})
        issued_at = datetime.fromtimestamp(int(self._clock()), tz=UTC)
        body = await self._public_call("POST", CODE_EXCHANGE_PATH, payload)
        raise_for_error(body.status, body.json)
        return parse_token(body.json, issued_at)

    async def get_shop_info(self, shop_id: int, access_token: str) -> AuthorizedShop:
        """The shop as Shopee describes it to a holder of its token (name, region, status)."""
        body = await self._shop_call("GET", SHOP_INFO_PATH, shop_id, access_token, {})
        raise_for_error(body.status, body.json)
        return AuthorizedShop(
            platform=SHOPEE,
            shop_id=str(shop_id),
            name=str(body.json.get("shop_name") or ""),
            region=str(body.json.get("region") or ""),
        )

    async def _shop_call(
        self,
        method: str,
        path: str,
        shop_id: int,
        access_token: str,
        params: Mapping[str, str],
    ) -> _Reply:
        timestamp = int(self._clock())
        sign = api_sign(self._partner_key, self._partner_id, path, timestamp, access_token, shop_id)
        query = {
            **params,
            "partner_id": str(self._partner_id),
            "timestamp": str(timestamp),
            "access_token": access_token,
            "shop_id": str(shop_id),
            "sign": sign,
        }
        return await self._send(method, path, query)

    async def _public_call(self, method: str, path: str, payload: bytes | None = None) -> _Reply:
        timestamp = int(self._clock())
        query = {
            "partner_id": str(self._partner_id),
            "timestamp": str(timestamp),
            "sign": api_sign(self._partner_key, self._partner_id, path, timestamp),
        }
        return await self._send(method, path, query, payload)

    async def _send(
        self, method: str, path: str, query: Mapping[str, str], payload: bytes | None = None
    ) -> _Reply:
        response = await _http.send(
            self._http,
            method,
            self._base_url + path,
            platform=SHOPEE,
            params=query,
            content=payload,
            headers={"content-type": "application/json"},
            http_timeout=self._timeout,
        )
        body = _http.decode_json_object(response, platform=SHOPEE)
        if body is None:
            _http.raise_for_unreadable(response, platform=SHOPEE)
        if not body.get("error") and _http.is_transient_status(response.status_code):
            _http.raise_for_unreadable(response, platform=SHOPEE)
        return _Reply(response.status_code, body)


@dataclass(frozen=True, slots=True)
class _Reply:
    """A decoded Shopee response: HTTP status plus JSON body."""

    status: int
    json: dict[str, Any]


def parse_token(body: Mapping[str, Any], issued_at: datetime) -> TokenPair:
    """Parse a refresh response; `expire_in` is the access token's life in seconds."""
    try:
        expire_in = body["expire_in"]
        if isinstance(expire_in, bool) or not isinstance(expire_in, int):
            raise TypeError("expire_in is not an integer")
        return TokenPair(
            access_token=str(body["access_token"]),
            refresh_token=str(body["refresh_token"]),
            access_expires_at=issued_at + timedelta(seconds=expire_in),
            refresh_expires_at=issued_at + REFRESH_TOKEN_LIFETIME,
        )
    except (KeyError, TypeError):
        raise PlatformPayloadError("token response is incomplete", platform=SHOPEE) from None
