"""TikTok Shop's auth host, simulated: the seller's consent page, code exchange and refresh.

§1.8: a seller opens `/oauth/authorize?app_key&state`, consents, and is sent back to the
redirect URL registered for the app with `code` and the same `state`; the app exchanges the
code at `/api/v2/token/get` and learns its shops from Get Authorized Shops on the API host.
What a token may act for (its seller's shops) is kept here, so a token from one seller's
consent never reads another seller's shop. The consent page and `/_sim/app` are the
simulator's own; the code lifetime (10 minutes, single use) and error codes other than
106001 are stand-ins (UNCONFIRMED).
"""

from __future__ import annotations

import html
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel

from integrations.simulators._tiktok_wire import envelope
from integrations.simulators._tokens import TokenSigner

AUTHORIZE_PATH = "/oauth/authorize"
CODE_EXCHANGE_PATH = "/api/v2/token/get"
REFRESH_PATH = "/api/v2/token/refresh"

BAD_APP = (106001, "Invalid credentials. app_key or app_secret is invalid")
BAD_CODE = (105003, "Invalid credentials. The auth code is invalid, expired or used")
BAD_REFRESH = (105002, "Invalid credentials. The refresh token is invalid")


@dataclass
class Grants:
    """Live tokens and unexchanged codes, each with the shop ids it covers."""

    access: dict[str, frozenset[str]] = field(default_factory=dict)
    refresh: dict[str, frozenset[str]] = field(default_factory=dict)
    codes: dict[str, tuple[frozenset[str], float]] = field(default_factory=dict)
    # Signs issued tokens so another simulator process with the same key accepts them (`_tokens`);
    # None: random tokens only this process knows. A grant covers one shop or all `shops`.
    signer: TokenSigner | None = None
    shops: frozenset[str] = frozenset()
    spent: set[str] = field(default_factory=set)

    def covers(self, access_token: str | None, shop_id: str) -> bool:
        """Whether this access token may act for this shop."""
        return (
            self.live("access", access_token or "") and shop_id in self.access[access_token or ""]
        )

    def live(self, kind: str, token: str) -> bool:
        """Whether this token is live here, learning one that another process signed."""
        table = self.access if kind == "access" else self.refresh
        if token in table:
            return True
        if self.signer is None or token in self.spent:
            return False
        scopes = [*self.shops, _scope(self.shops)]
        scope = self.signer.scope_of(kind, token, scopes)
        if scope is not None:
            table[token] = frozenset(scope.split(","))
        return scope is not None

    def spend(self, refresh_token: str) -> frozenset[str] | None:
        """The shops of a live refresh token, which dies now (single use); None if not live."""
        if not self.live("refresh", refresh_token):
            return None
        self.spent.add(refresh_token)
        return self.refresh.pop(refresh_token)

    def issue(self, shops: frozenset[str]) -> tuple[str, str]:
        """A new access and refresh token for these shops."""
        if self.signer is None:
            access, refresh = f"TTP_{secrets.token_hex(16)}", f"TTP_{secrets.token_hex(16)}"
        else:
            access = self.signer.make("access", _scope(shops))
            refresh = self.signer.make("refresh", _scope(shops))
        self.access[access] = shops
        self.refresh[refresh] = shops
        return access, refresh


def _scope(shops: frozenset[str]) -> str:
    return ",".join(sorted(shops))


@dataclass
class AuthApp:
    """The app as registered with TikTok: key, secret, redirect URL, the shops that exist."""

    app_key: str
    app_secret: str
    shop_names: dict[str, str]
    redirect_url: str | None = None
    code_ttl_s: float = 600.0


class AppPatchIn(BaseModel):
    """`PATCH /_sim/app`: what a developer sets in Partner Center (the redirect URL)."""

    redirect_url: str


Inject = Callable[[], Awaitable[Response | None]]


def build_auth_router(app: AuthApp, grants: Grants, inject: Inject) -> APIRouter:
    """The auth host's endpoints plus the `/_sim/app` control endpoint."""
    router = APIRouter()

    @router.get(AUTHORIZE_PATH)
    async def consent_page(request: Request) -> Response:
        query = request.query_params
        if query.get("app_key") != app.app_key or not query.get("state"):
            return HTMLResponse("<p>Invalid app_key or missing state.</p>", status_code=400)
        return HTMLResponse(_consent_html(app, query["state"]))

    @router.post(AUTHORIZE_PATH)
    async def consent(request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        if form.get("app_key") != app.app_key or not form.get("state"):
            return HTMLResponse("<p>Invalid app_key or missing state.</p>", status_code=400)
        shop_id = form.get("shop_id", "")
        if shop_id not in app.shop_names:
            return HTMLResponse("<p>Choose one of your shops.</p>", status_code=400)
        if not app.redirect_url:
            raise HTTPException(409, "no redirect_url registered: PATCH /_sim/app first")
        code = secrets.token_urlsafe(24)
        grants.codes[code] = (frozenset({shop_id}), time.time() + app.code_ttl_s)
        back = {"app_key": app.app_key, "code": code, "locale": "vi-VN", "shop_region": "VN"}
        back["state"] = form["state"]
        return RedirectResponse(f"{app.redirect_url}?{urlencode(back)}", status_code=302)

    @router.get(CODE_EXCHANGE_PATH)
    async def exchange(request: Request) -> Response:
        fault = await inject()
        if fault is not None:
            return fault
        query = request.query_params
        if query.get("app_key") != app.app_key or query.get("app_secret") != app.app_secret:
            return envelope(401, *BAD_APP, None)
        granted = grants.codes.pop(query.get("auth_code", ""), None)  # single use
        if query.get("grant_type") != "authorized_code" or granted is None:
            return envelope(401, *BAD_CODE, None)
        shops, expires_at = granted
        if time.time() > expires_at:
            return envelope(401, *BAD_CODE, None)
        return _token_answer(grants, shops)

    @router.get(REFRESH_PATH)
    async def refresh(request: Request) -> Response:
        fault = await inject()
        if fault is not None:
            return fault
        query = request.query_params
        if query.get("app_key") != app.app_key or query.get("app_secret") != app.app_secret:
            return envelope(401, *BAD_APP, None)
        shops = grants.spend(query.get("refresh_token", ""))
        if query.get("grant_type") != "refresh_token" or shops is None:
            return envelope(401, *BAD_REFRESH, None)
        return _token_answer(grants, shops)

    @router.patch("/_sim/app", tags=["simulator control"])
    async def register_app(req: AppPatchIn) -> dict[str, object]:
        app.redirect_url = req.redirect_url
        return {"redirect_url": app.redirect_url}

    return router


def _token_answer(grants: Grants, shops: frozenset[str]) -> Response:
    access, refresh = grants.issue(shops)
    now = int(time.time())
    data = {
        "access_token": access,
        "access_token_expire_in": now + 7 * 86400,  # absolute timestamp, as the real API (§1.8)
        "refresh_token": refresh,
        "refresh_token_expire_in": now + 365 * 86400,
        "open_id": "sim_open_id",
        "seller_name": "Hợp tác xã Bình Lư",
        "seller_base_region": "VN",
        "user_type": 0,
        "granted_scopes": ["seller.authorization.info", "seller.order.info"],
    }
    return envelope(200, 0, "success", data)


def _consent_html(app: AuthApp, state: str) -> str:
    choices = "".join(
        f'<label><input type="radio" name="shop_id" value="{html.escape(shop)}" required> '
        f"{html.escape(name)}</label><br>"
        for shop, name in app.shop_names.items()
    )
    return (
        "<!doctype html><meta charset='utf-8'><title>Authorize app</title>"
        f"<form method='post' action='{AUTHORIZE_PATH}'>"
        f"<input type='hidden' name='app_key' value='{html.escape(app.app_key)}'>"
        f"<input type='hidden' name='state' value='{html.escape(state)}'>"
        f"<p>Log in as the seller of:</p>{choices}"
        "<button type='submit'>Authorize</button></form>"
    )
