"""Shopee's partner authorisation, simulated: the signed auth link, consent, code exchange.

The partner builds `/api/v2/shop/auth_partner?partner_id&timestamp&sign&redirect` (sign over
partner_id + path + timestamp); the seller consents and Shopee sends them to `redirect` with
`code` and `shop_id` added. The code (single use, 10 minutes) is exchanged with that shop_id at
`/api/v2/auth/token/get`; tokens are per shop, and `get_shop_info` describes the shop to a
holder of its token. The consent page is the simulator's own.
"""

from __future__ import annotations

import hmac
import html
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from integrations.simulators._shopee_wire import error, hmac_hex, json_body
from integrations.simulators._tokens import TokenSigner

AUTH_PARTNER_PATH = "/api/v2/shop/auth_partner"
CODE_EXCHANGE_PATH = "/api/v2/auth/token/get"
SHOP_INFO_PATH = "/api/v2/shop/get_shop_info"
ACCESS_TOKEN_LIFE_S = 4 * 3600

Check = Callable[[Request, bool], Response | int]
Inject = Callable[[], Awaitable[Response | None]]


@dataclass
class ShopTokens:
    """Live tokens with the shop each belongs to (None: configured tokens, any shop) and codes."""

    access: dict[str, int | None] = field(default_factory=dict)
    refresh: dict[str, int | None] = field(default_factory=dict)
    codes: dict[str, tuple[int, float]] = field(default_factory=dict)
    # Signs issued tokens so another simulator process with the same key accepts them (`_tokens`);
    # None: random tokens only this process knows.
    signer: TokenSigner | None = None
    shop_ids: tuple[int, ...] = ()
    spent: set[str] = field(default_factory=set)

    def covers(self, access_token: str, shop_id: int) -> bool:
        """Whether this access token may act for this shop."""
        return self.live("access", access_token) and self.access[access_token] in (None, shop_id)

    def live(self, kind: str, token: str) -> bool:
        """Whether this token is live here, learning one that another process signed."""
        table = self.access if kind == "access" else self.refresh
        if token in table:
            return True
        if self.signer is None or token in self.spent:
            return False
        scope = self.signer.scope_of(kind, token, (str(s) for s in self.shop_ids))
        if scope is not None:
            table[token] = int(scope)
        return scope is not None

    def spend(self, refresh_token: str) -> None:
        """Retire a used refresh token (single use, as Shopee's)."""
        del self.refresh[refresh_token]
        self.spent.add(refresh_token)

    def issue(self, shop_id: int) -> tuple[str, str]:
        """A new access and refresh token of this shop."""
        if self.signer is None:
            access, refresh = secrets.token_hex(16), secrets.token_hex(16)
        else:
            access = self.signer.make("access", str(shop_id))
            refresh = self.signer.make("refresh", str(shop_id))
        self.access[access] = self.refresh[refresh] = shop_id
        return access, refresh


@dataclass
class AuthPartner:
    """Our partner account as Shopee knows it, and the shops sellers may authorise."""

    partner_id: int
    partner_key: str
    shop_names: dict[int, str]
    timestamp_tolerance_s: int = 300
    code_ttl_s: float = 600.0

    def link_refused(self, params: dict[str, str], *, check_time: bool) -> Response | None:
        """The error for a badly signed or stale auth link, or None when it is good."""
        timestamp = params.get("timestamp", "")
        if params.get("partner_id") != str(self.partner_id) or not timestamp.isdigit():
            return error("error_param", "Invalid partner_id or timestamp.")
        if check_time and abs(time.time() - int(timestamp)) > self.timestamp_tolerance_s:
            return error("error_param", "Timestamp is expired.")
        base = f"{self.partner_id}{AUTH_PARTNER_PATH}{timestamp}".encode()
        if not hmac.compare_digest(hmac_hex(self.partner_key, base), params.get("sign", "")):
            return error("error_sign", "Wrong sign.", 403)
        if not params.get("redirect"):
            return error("error_param", "Wrong parameters, detail: redirect is required.")
        return None


def build_auth_router(
    partner: AuthPartner, tokens: ShopTokens, check: Check, inject: Inject
) -> APIRouter:
    """The authorisation endpoints of the Shopee simulator."""
    router = APIRouter()

    @router.get(AUTH_PARTNER_PATH)
    async def auth_partner(request: Request) -> Response:
        params = dict(request.query_params)
        refused = partner.link_refused(params, check_time=True)
        return refused or HTMLResponse(_consent_html(partner, params))

    @router.post(AUTH_PARTNER_PATH)
    async def consent(request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        refused = partner.link_refused(form, check_time=False)
        if refused is not None:
            return refused
        shop = form.get("shop_id", "")
        if not shop.isdigit() or int(shop) not in partner.shop_names:
            return HTMLResponse("<p>Choose one of your shops.</p>", status_code=400)
        code = secrets.token_hex(16)
        tokens.codes[code] = (int(shop), time.time() + partner.code_ttl_s)
        redirect = form["redirect"]
        joiner = "&" if "?" in redirect else "?"
        return RedirectResponse(
            f"{redirect}{joiner}{urlencode({'code': code, 'shop_id': shop})}", status_code=302
        )

    @router.post(CODE_EXCHANGE_PATH)
    async def exchange(request: Request) -> Response:
        checked = await inject() or check(request, False)
        if isinstance(checked, Response):
            return checked
        return _exchange(partner, tokens, json_body(await request.body()))

    @router.get(SHOP_INFO_PATH)
    async def shop_info(request: Request) -> Response:
        checked = await inject() or check(request, True)
        if isinstance(checked, Response):
            return checked
        now = int(time.time())
        return _answer(
            {
                "shop_name": partner.shop_names[checked],
                "region": "VN",
                "status": "NORMAL",
                "is_cb": False,
                "is_sip": False,
                "auth_time": now,
                "expire_time": now + 365 * 86400,
                "merchant_id": None,
            }
        )

    return router


def _exchange(partner: AuthPartner, tokens: ShopTokens, body: dict[str, Any]) -> Response:
    if body.get("partner_id") != partner.partner_id:
        return error("error_param", "Invalid partner_id.")
    granted = tokens.codes.pop(str(body.get("code", "")), None)  # single use, even when wrong
    if granted is None or time.time() > granted[1]:
        return error(
            "invalid_code", "The code is expired or used or invalid, please check the code."
        )
    if body.get("shop_id") != granted[0]:
        return error(
            "invalid_shop_id", "The code or shop_id is wrong, please check the code or the shop_id."
        )
    access, refresh = tokens.issue(granted[0])
    return _answer(
        {"access_token": access, "refresh_token": refresh, "expire_in": ACCESS_TOKEN_LIFE_S}
    )


def _answer(fields: dict[str, Any]) -> Response:
    # Auth and shop-info answers carry their fields at the top level, beside error/message.
    body = {"error": "", "message": "", "request_id": secrets.token_hex(16), **fields}
    return Response(orjson.dumps(body), media_type="application/json")


def _consent_html(partner: AuthPartner, params: dict[str, str]) -> str:
    hidden = "".join(
        f"<input type='hidden' name='{name}' value='{html.escape(params[name])}'>"
        for name in ("partner_id", "timestamp", "sign", "redirect")
    )
    choices = "".join(
        f"<label><input type='radio' name='shop_id' value='{shop}' required> "
        f"{html.escape(name)}</label><br>"
        for shop, name in partner.shop_names.items()
    )
    return (
        "<!doctype html><meta charset='utf-8'><title>Shopee Open Platform</title>"
        f"<form method='post' action='{AUTH_PARTNER_PATH}'>{hidden}"
        f"<p>Log in as the seller of:</p>{choices}"
        "<button type='submit'>Confirm authorization</button></form>"
    )
