"""Shopee Open Platform v2 simulator: orders, lost pushes, shop authorisation, signed pushes.

Speaks the wire protocol of reference/platforms.md §2. Signatures are recomputed here,
independently of `integrations.platforms`, so a bug shared by signer and verifier shows up.
Error names and messages come from Shopee's API schemas; their HTTP statuses are UNCONFIRMED.
Pushes that fail every retry become "lost" messages served by `get_lost_push_message`.
Platform SKU ids are "item_id:model_id" (what the Phiên parser produces).
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import orjson
from fastapi import FastAPI, Request, Response

from integrations.simulators._ids import IdSequence
from integrations.simulators._shopee_auth import AuthPartner, ShopTokens, build_auth_router
from integrations.simulators._shopee_wire import error, hmac_hex, json_body, ok, render_order
from integrations.simulators._sim_core import Faults, SimCore, build_control_router
from integrations.simulators._sim_models import SimOrder
from integrations.simulators._tokens import TokenSigner
from integrations.simulators._webhook_pusher import (
    SHOPEE_RETRIES_S,
    Push,
    PushPolicy,
    WebhookPusher,
)

DEFAULT_SHOP_ID = 727720655
DEFAULT_PARTNER_ID = 2001887
_DAY_MS = 86_400_000

ORDER_DETAIL_PATH = "/api/v2/order/get_order_detail"
ORDER_LIST_PATH = "/api/v2/order/get_order_list"
LOST_PUSH_PATH = "/api/v2/push/get_lost_push_message"
CONFIRM_LOST_PUSH_PATH = "/api/v2/push/confirm_consumed_lost_push_message"
REFRESH_PATH = "/api/v2/auth/access_token/get"

STATUSES = frozenset(
    {
        "UNPAID",
        "READY_TO_SHIP",
        "PROCESSED",
        "SHIPPED",
        "COMPLETED",
        "IN_CANCEL",
        "CANCELLED",
        "INVOICE_PENDING",
        "PENDING",
        "TO_CONFIRM_RECEIVE",
        "TO_RETURN",
        "RETRY_SHIP",
    }
)
VERIFY_INFO = "This is a Verification message.Please respond in the certain format."


@dataclass
class ShopeeSimConfig:
    """Partner credentials, shops, push target (the signed callback URL) and fault knobs."""

    partner_id: int = DEFAULT_PARTNER_ID
    # Well-known simulator credentials, never real ones: the simulator only listens on loopback.
    partner_key: str = "sim_partner_key"
    shop_ids: tuple[int, ...] = (DEFAULT_SHOP_ID,)
    shop_names: dict[int, str] = field(default_factory=lambda: {DEFAULT_SHOP_ID: "Trà Shan Tuyết"})
    access_token: str = "sim_access_token"  # noqa: S105
    refresh_token: str = "sim_refresh_token"  # noqa: S105
    webhook_url: str | None = None
    latency_ms: int = 0
    failure_rate: float = 0.0
    push_concurrency: int = 32
    push_retry: bool = True
    # The live-push retry schedule is UNCONFIRMED (§2.1): none, the push is lost at once.
    push_backoff_s: tuple[float, ...] = SHOPEE_RETRIES_S
    push_timeout_s: float = 3.0
    push_time_scale: float = 1.0
    timestamp_tolerance_s: int = 300  # "timestamp … expires in 5 minutes"
    seed: int = 0
    # None: order numbers and lost-push ids unique to this start (`_ids`); a number: the fixed
    # numbering from that base.
    id_base: int | None = None


@dataclass
class _State:
    tokens: ShopTokens
    lost_ids: IdSequence
    lost: list[dict[str, Any]] = field(default_factory=list)


class _ShopeePlatform:
    name = "shopee"
    statuses = STATUSES
    initial_status = "UNPAID"

    def __init__(self, config: ShopeeSimConfig) -> None:
        self.config = config
        self._order_numbers = IdSequence(config.id_base, period_ms=_DAY_MS)

    def default_shop_id(self) -> str:
        return str(self.config.shop_ids[0])

    def has_shop(self, shop_id: str) -> bool:
        return shop_id.isdigit() and int(shop_id) in self.config.shop_ids

    def new_order_id(self, seq: int) -> str:
        # Like 220810QSK8S7BX; unseeded, the number stays below 36**8 (see `_ids`).
        return time.strftime("%y%m%d") + _base36(self._order_numbers.next()).rjust(8, "0")

    def build_push(self, order: SimOrder, url: str) -> Push:
        body = orjson.dumps(
            {
                "data": {
                    "items": [],
                    "ordersn": order.order_id,
                    "status": order.status,
                    "completed_scenario": "",
                    "update_time": order.update_time,
                },
                "shop_id": int(order.shop_id),
                "code": 3,
                "timestamp": int(time.time()),
            }
        )
        return signed_push(self.config.partner_key, url, body, order.status)

    def error_response(self, status_code: int) -> Response:
        if status_code == 429:
            return error("error_rate_limit", "Too many requests. Please try again later.", 429)
        return error("error_server", "Something wrong. Please try later.", status_code)


def signed_push(partner_key: str, url: str, body: bytes, label: str) -> Push:
    """A push signed over callback URL + "|" + body, the way Shopee signs it."""
    signature = hmac_hex(partner_key, url.encode() + b"|" + body)
    headers = {"Authorization": signature, "Content-Type": "application/json"}
    return Push(url=url, body=body, headers=headers, label=label)


def _shop_tokens(cfg: ShopeeSimConfig) -> ShopTokens:
    # The configured tokens act for every shop; tokens from a seller's consent, for theirs.
    return ShopTokens(
        {cfg.access_token: None},
        {cfg.refresh_token: None},
        signer=TokenSigner(cfg.partner_key),
        shop_ids=tuple(cfg.shop_ids),
    )


def accepts_refresh_token(config: ShopeeSimConfig, token: str) -> bool:
    """Whether a simulator started now with this config takes this refresh token."""
    return _shop_tokens(config).live("refresh", token)


def create_app(config: ShopeeSimConfig | None = None) -> FastAPI:
    """A FastAPI app that plays the Shopee Open Platform v2."""
    cfg = replace(config) if config is not None else ShopeeSimConfig()
    # The configured tokens act for every shop; tokens from a seller's consent, for theirs.
    lost_base = None if cfg.id_base is None else 176600 + cfg.id_base
    state = _State(_shop_tokens(cfg), IdSequence(lost_base))
    names = {shop: cfg.shop_names.get(shop, f"Shopee shop {shop}") for shop in cfg.shop_ids}
    partner = AuthPartner(cfg.partner_id, cfg.partner_key, names, cfg.timestamp_tolerance_s)
    policy = PushPolicy(cfg.push_retry, cfg.push_backoff_s, cfg.push_timeout_s, cfg.push_time_scale)
    pusher = WebhookPusher(
        policy, concurrency=cfg.push_concurrency, on_gave_up=lambda p: _record_lost(state, p)
    )
    faults = Faults(latency_s=cfg.latency_ms / 1000, failure_rate=cfg.failure_rate)
    core = SimCore(_ShopeePlatform(cfg), pusher, faults, cfg.webhook_url, cfg.seed)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await pusher.start()
        try:
            yield
        finally:
            await pusher.close()

    app = FastAPI(title="Shopee Open Platform simulator", lifespan=lifespan)
    app.state.sim = core
    app.include_router(build_control_router(core))
    app.include_router(
        build_auth_router(
            partner,
            state.tokens,
            lambda request, shop_level: _check(request, cfg, state, shop_level=shop_level),
            core.inject_fault,
        )
    )

    @app.get(ORDER_DETAIL_PATH)
    async def get_order_detail(request: Request) -> Response:
        checked = await core.inject_fault() or _check(request, cfg, state, shop_level=True)
        if isinstance(checked, Response):
            return checked
        sns = [sn for sn in request.query_params.get("order_sn_list", "").split(",") if sn]
        if not 1 <= len(sns) <= 50:
            return error("error_param", "Wrong parameters, detail: order_sn_list limit [1,50].")
        wanted = set(request.query_params.get("response_optional_fields", "").split(","))
        found = [core.orders.get(sn) for sn in sns]
        orders = [render_order(o, wanted) for o in found if o and o.shop_id == str(checked)]
        return ok({"order_list": orders})

    @app.get(ORDER_LIST_PATH)
    async def get_order_list(request: Request) -> Response:
        checked = await core.inject_fault() or _check(request, cfg, state, shop_level=True)
        if isinstance(checked, Response):
            return checked
        return _order_list(core, str(checked), request)

    @app.get(LOST_PUSH_PATH)
    async def get_lost_push_message(request: Request) -> Response:
        checked = await core.inject_fault() or _check(request, cfg, state, shop_level=False)
        if isinstance(checked, Response):
            return checked
        page = state.lost[:100]
        return ok(
            {
                "push_message_list": [{k: v for k, v in m.items() if k != "id"} for m in page],
                "has_next_page": len(state.lost) > 100,
                "last_message_id": page[-1]["id"] if page else 0,
            }
        )

    @app.post(CONFIRM_LOST_PUSH_PATH)
    async def confirm_consumed(request: Request) -> Response:
        checked = await core.inject_fault() or _check(request, cfg, state, shop_level=False)
        if isinstance(checked, Response):
            return checked
        last = json_body(await request.body()).get("last_message_id")
        if not isinstance(last, int):
            return error("error_param", "Wrong parameters, detail: last_message_id is required.")
        state.lost = [m for m in state.lost if m["id"] > last]
        return ok(None)

    @app.post(REFRESH_PATH)
    async def refresh_access_token(request: Request) -> Response:
        checked = await core.inject_fault() or _check(request, cfg, state, shop_level=False)
        if isinstance(checked, Response):
            return checked
        return _refresh(json_body(await request.body()), cfg, state)

    @app.post("/_sim/verification-push")
    async def verification_push() -> dict[str, object]:
        """Send the test push Shopee sends when a callback URL is set (§2.1)."""
        body = orjson.dumps({"code": 0, "data": {"verify_info": VERIFY_INFO}})
        push = signed_push(cfg.partner_key, core.require_webhook_url(), body, "verification")
        core.pusher.submit([push])
        return {"pushed": ["verification"]}

    return app


def _check(
    request: Request, cfg: ShopeeSimConfig, state: _State, *, shop_level: bool
) -> Response | int:
    """Common parameter and signature checks; the shop id (0 for public calls) or an error."""
    query = request.query_params
    if query.get("partner_id") != str(cfg.partner_id):
        return error("error_param", "Invalid partner_id.")
    timestamp = query.get("timestamp", "")
    if not timestamp.isdigit():
        return error("error_param", "Invalid timestamp")
    if abs(int(time.time()) - int(timestamp)) > cfg.timestamp_tolerance_s:
        return error("error_param", "Timestamp is expired.")
    base = f"{cfg.partner_id}{request.url.path}{timestamp}"
    if shop_level:
        if "access_token" not in query:
            return error("error_param", "There is no access_token in query.")
        base += query["access_token"] + query.get("shop_id", "")
    if not hmac.compare_digest(hmac_hex(cfg.partner_key, base.encode()), query.get("sign", "")):
        return error("error_sign", "Wrong sign.", 403)
    if not shop_level:
        return 0
    if not state.tokens.live("access", query["access_token"]):
        return error("error_auth", "Invalid access_token.", 403)
    shop_id = query.get("shop_id", "")
    if not shop_id.isdigit() or int(shop_id) not in cfg.shop_ids:
        return error("error_shop", "shopid is invalid", 403)
    if not state.tokens.covers(query["access_token"], int(shop_id)):
        return error("error_auth", "Invalid partner_id or shopid.", 403)
    return int(shop_id)


def _order_list(core: SimCore, shop_id: str, request: Request) -> Response:
    query = request.query_params
    field_name = query.get("time_range_field", "")
    numbers = [query.get(k, "") for k in ("time_from", "time_to", "page_size")]
    cursor = query.get("cursor", "") or "0"
    if field_name not in ("create_time", "update_time") or not all(n.isdigit() for n in numbers):
        return error("error_param", "Wrong parameters, detail: time range or page_size.")
    time_from, time_to, page_size = (int(n) for n in numbers)
    if time_from > time_to or time_to - time_from > 15 * 86400:
        return error(
            "order.order_list_invalid_time",
            "Start time must be earlier than end time and diff in 15days.",
        )
    if not 1 <= page_size <= 100 or not cursor.isdigit():
        return error("error_param", "Wrong parameters, detail: page_size or cursor.")
    status = query.get("order_status")
    matched = sorted(
        (
            o
            for o in core.orders.values()
            if o.shop_id == shop_id
            and time_from <= getattr(o, field_name) <= time_to
            and (not status or o.status == status)
        ),
        key=lambda o: (getattr(o, field_name), o.order_id),
    )
    offset = int(cursor)
    page = matched[offset : offset + page_size]
    more = offset + len(page) < len(matched)
    with_status = "order_status" in query.get("response_optional_fields", "")
    entries = [
        {"order_sn": o.order_id, **({"order_status": o.status} if with_status else {})}
        for o in page
    ]
    next_cursor = str(offset + len(page)) if more else ""
    return ok({"more": more, "next_cursor": next_cursor, "order_list": entries})


def _refresh(body: dict[str, Any], cfg: ShopeeSimConfig, state: _State) -> Response:
    if body.get("partner_id") != cfg.partner_id:
        return error("error_param", "Invalid partner_id.")
    if body.get("shop_id") not in cfg.shop_ids:
        return error("error_param", "Wrong parameters, detail: shop_id is invalid.")
    old = str(body.get("refresh_token"))
    if not state.tokens.live("refresh", old) or state.tokens.refresh[old] not in (
        None,
        body["shop_id"],
    ):
        return error("error_auth", "Invalid refresh_token.", 403)
    state.tokens.spend(old)  # single use: the old refresh token dies now
    access, refresh = state.tokens.issue(body["shop_id"])
    payload = {
        "error": "",
        "message": "",
        "request_id": secrets.token_hex(16),
        "partner_id": cfg.partner_id,
        "shop_id": body["shop_id"],
        "access_token": access,
        "refresh_token": refresh,
        "expire_in": 4 * 3600,
    }
    return Response(orjson.dumps(payload), media_type="application/json")


def _record_lost(state: _State, push: Push) -> None:
    # Shopee keeps undelivered pushes for 3 days for get_lost_push_message (§2.1).
    body = json_body(push.body)
    entry = {
        "id": state.lost_ids.next(),
        "code": body.get("code"),
        "timestamp": body.get("timestamp"),
    }
    if "shop_id" in body:
        entry["shop_id"] = body["shop_id"]
    state.lost.append({**entry, "data": push.body.decode()})


def _base36(number: int) -> str:
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
        if number == 0:
            return text
