"""TikTok Shop simulator: 202309 order APIs, shop authorisation and signed order-status webhooks.

Speaks the wire protocol of reference/platforms.md §1 so the real client runs against it unchanged.
Signatures are recomputed here independently of `integrations.platforms` on purpose: a bug shared
by signer and verifier would otherwise go unnoticed. Error codes other than 106001 (bad sign) and
the 105xxx token class are stand-ins (UNCONFIRMED), as are the HTTP statuses of errors.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import orjson
from fastapi import FastAPI, Request, Response

from integrations.simulators._ids import IdSequence
from integrations.simulators._sim_core import Faults, SimCore, build_control_router
from integrations.simulators._sim_models import SimOrder
from integrations.simulators._tiktok_auth import AuthApp, Grants, build_auth_router
from integrations.simulators._tiktok_wire import api_sign, envelope, hmac_hex
from integrations.simulators._tokens import TokenSigner
from integrations.simulators._webhook_pusher import (
    TIKTOK_SHOP_RETRIES_S,
    Push,
    PushPolicy,
    WebhookPusher,
)

DEFAULT_SHOP_ID = "7495540735365777507"
DEFAULT_SHOP_CIPHER = "ROW_sim_cipher_7495540735"

ORDERS_PATH = "/order/202309/orders"
SEARCH_PATH = "/order/202309/orders/search"
AUTHORIZED_SHOPS_PATH = "/authorization/202309/shops"

# Order API vocabulary (§1.2); webhooks spell cancellation per `webhook_cancel_status`.
STATUSES = frozenset(
    {
        "UNPAID",
        "ON_HOLD",
        "AWAITING_SHIPMENT",
        "PARTIALLY_SHIPPING",
        "AWAITING_COLLECTION",
        "IN_TRANSIT",
        "DELIVERED",
        "COMPLETED",
        "CANCELLED",
    }
)

BAD_SIGN = (106001, "Invalid credentials. The 'sign' query parameter is invalid")
BAD_TOKEN = (105001, "Invalid credentials. The access token is invalid or expired")
BAD_PARAM = 40006  # stand-in code for parameter errors


@dataclass
class TikTokShopSimConfig:
    """Credentials, shops (shop_id → shop_cipher), push target and fault knobs of the simulator."""

    app_key: str = "sim_app_key"
    # Well-known simulator credentials, never real ones: the simulator only listens on loopback.
    app_secret: str = "sim_app_secret"  # noqa: S105
    shops: dict[str, str] = field(default_factory=lambda: {DEFAULT_SHOP_ID: DEFAULT_SHOP_CIPHER})
    shop_names: dict[str, str] = field(
        default_factory=lambda: {DEFAULT_SHOP_ID: "Nông sản Bình Lư"}
    )
    access_token: str = "sim_access_token"  # noqa: S105
    refresh_token: str = "sim_refresh_token"  # noqa: S105
    # The redirect URL registered for the app (Partner Center); also PATCH /_sim/app.
    redirect_url: str | None = None
    webhook_url: str | None = None
    latency_ms: int = 0
    failure_rate: float = 0.0
    push_concurrency: int = 32
    push_retry: bool = True
    # Retries 2 min, 30 min, 3 h and 12 h after the first attempt (§1.5); tests compress time.
    push_backoff_s: tuple[float, ...] = TIKTOK_SHOP_RETRIES_S
    push_timeout_s: float = 3.0
    push_time_scale: float = 1.0
    webhook_cancel_status: str = "CANCEL"  # §1.2 doc spelling; set "CANCELLED" to test the other
    seed: int = 0
    # None: order and notification ids unique to this start (`_ids`); a number: the fixed
    # numbering from that base (0 gives the ids of the official samples' neighbourhood).
    id_base: int | None = None


_NOTIFICATION_ID_BASE = 7380066284010030000  # 19 digits, as in the official sample (§1.2)
_ORDER_ID_BASE = 576653688135258178  # ~18 digits like real ids


class _TikTokPlatform:
    name = "tiktok_shop"
    statuses = STATUSES
    initial_status = "UNPAID"

    def __init__(self, config: TikTokShopSimConfig) -> None:
        self.config = config
        self._notification_ids = IdSequence(config.id_base)
        self._order_ids = IdSequence(config.id_base)

    def default_shop_id(self) -> str:
        return next(iter(self.config.shops))

    def has_shop(self, shop_id: str) -> bool:
        return shop_id in self.config.shops

    def new_order_id(self, seq: int) -> str:
        number = self._order_ids.next()
        if self.config.id_base is not None:
            return str(_ORDER_ID_BASE + number * 7919)
        return str(576 * 10**15 + number)  # still 18 digits

    def build_push(self, order: SimOrder, url: str) -> Push:
        notification_id = _NOTIFICATION_ID_BASE + self._notification_ids.next()
        status = order.status
        if status == "CANCELLED":
            status = self.config.webhook_cancel_status
        body = orjson.dumps(
            {
                "type": 1,
                "tts_notification_id": str(notification_id),
                "shop_id": order.shop_id,
                "timestamp": int(time.time()),
                "data": {
                    "is_on_hold_order": False,
                    "order_id": order.order_id,
                    "order_status": status,
                    "update_time": order.update_time,
                },
            }
        )
        signature = hmac_hex(self.config.app_secret, self.config.app_key.encode() + body)
        headers = {"Authorization": signature, "Content-Type": "application/json"}
        return Push(url=url, body=body, headers=headers, label=status)

    def error_response(self, status_code: int) -> Response:
        return envelope(status_code, 36009004, "Internal error, please retry later", None)


def _grants(cfg: TikTokShopSimConfig) -> Grants:
    grants = Grants(signer=TokenSigner(cfg.app_secret, "TTP_"), shops=frozenset(cfg.shops))
    grants.access[cfg.access_token] = grants.refresh[cfg.refresh_token] = frozenset(cfg.shops)
    return grants


def accepts_refresh_token(config: TikTokShopSimConfig, token: str) -> bool:
    """Whether a simulator started now with this config takes this refresh token."""
    return _grants(config).live("refresh", token)


def create_app(config: TikTokShopSimConfig | None = None) -> FastAPI:
    """A FastAPI app that plays TikTok Shop (API host and auth host in one)."""
    cfg = replace(config) if config is not None else TikTokShopSimConfig()
    platform = _TikTokPlatform(cfg)
    policy = PushPolicy(cfg.push_retry, cfg.push_backoff_s, cfg.push_timeout_s, cfg.push_time_scale)
    pusher = WebhookPusher(policy, concurrency=cfg.push_concurrency)
    faults = Faults(latency_s=cfg.latency_ms / 1000, failure_rate=cfg.failure_rate)
    core = SimCore(platform, pusher, faults, cfg.webhook_url, cfg.seed)
    # The configured tokens act for every shop; tokens from a seller's consent, for theirs.
    grants = _grants(cfg)
    names = {shop: cfg.shop_names.get(shop, f"TikTok Shop {shop[-4:]}") for shop in cfg.shops}
    auth = AuthApp(cfg.app_key, cfg.app_secret, names, cfg.redirect_url)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await pusher.start()
        try:
            yield
        finally:
            await pusher.close()

    app = FastAPI(title="TikTok Shop simulator", lifespan=lifespan)
    app.state.sim = core
    app.include_router(build_control_router(core))
    app.include_router(build_auth_router(auth, grants, core.inject_fault))

    @app.get(ORDERS_PATH)
    async def get_order_detail(request: Request) -> Response:
        refused = await core.inject_fault() or _refuse(request, b"", cfg, grants)
        if refused is not None:
            return refused
        shop_id = _shop_for(cfg, grants, request)
        if shop_id is None:
            return envelope(400, BAD_PARAM, "shop_cipher is invalid", None)
        ids = [i for i in request.query_params.get("ids", "").split(",") if i]
        if not 1 <= len(ids) <= 50:
            return envelope(400, BAD_PARAM, "ids must hold 1 to 50 order ids", None)
        found = [core.orders.get(i) for i in ids]
        orders = [render_order(o) for o in found if o is not None and o.shop_id == shop_id]
        return envelope(200, 0, "Success", {"orders": orders})

    @app.post(SEARCH_PATH)
    async def search_orders(request: Request) -> Response:
        raw = await request.body()
        refused = await core.inject_fault() or _refuse(request, raw, cfg, grants)
        if refused is not None:
            return refused
        shop_id = _shop_for(cfg, grants, request)
        if shop_id is None:
            return envelope(400, BAD_PARAM, "shop_cipher is invalid", None)
        return _search(core, shop_id, request, raw)

    @app.get(AUTHORIZED_SHOPS_PATH)
    async def get_authorized_shops(request: Request) -> Response:
        refused = await core.inject_fault() or _refuse(request, b"", cfg, grants)
        if refused is not None:
            return refused
        token = request.headers.get("x-tts-access-token", "")
        shops = [_render_shop(cfg, shop) for shop in cfg.shops if grants.covers(token, shop)]
        return envelope(200, 0, "Success", {"shops": shops})

    return app


def _refuse(
    request: Request, body: bytes, cfg: TikTokShopSimConfig, grants: Grants
) -> Response | None:
    """The platform's error for a badly signed or unauthorised call, or None to go on."""
    query = request.query_params
    if query.get("app_key") != cfg.app_key or not query.get("timestamp", "").isdigit():
        return envelope(401, *BAD_SIGN, None)
    params = {k: v for k, v in query.items() if k not in ("sign", "access_token")}
    expected = api_sign(cfg.app_secret, request.url.path, params, body)
    if not hmac.compare_digest(expected, query.get("sign", "")):
        return envelope(401, *BAD_SIGN, None)
    if not grants.live("access", request.headers.get("x-tts-access-token") or ""):
        return envelope(401, *BAD_TOKEN, None)
    return None


def _search(core: SimCore, shop_id: str, request: Request, raw: bytes) -> Response:
    page_size = request.query_params.get("page_size", "")
    if not page_size.isdigit() or not 1 <= int(page_size) <= 100:
        return envelope(400, BAD_PARAM, "page_size must be between 1 and 100", None)
    try:
        filters: dict[str, Any] = orjson.loads(raw) if raw else {}
        offset = _decode_page_token(request.query_params.get("page_token", ""))
    except (orjson.JSONDecodeError, ValueError):
        return envelope(400, BAD_PARAM, "invalid body or page_token", None)
    matched = sorted(
        (o for o in core.orders.values() if o.shop_id == shop_id and _matches(o, filters)),
        key=lambda o: (o.update_time, o.order_id),
    )
    page = matched[offset : offset + int(page_size)]
    next_offset = offset + len(page)
    token = _encode_page_token(next_offset) if next_offset < len(matched) else ""
    data = {
        "orders": [render_order(o) for o in page],
        "next_page_token": token,
        "total_count": len(matched),
    }
    return envelope(200, 0, "Success", data)


def _matches(order: SimOrder, filters: dict[str, Any]) -> bool:
    for name, value in (("update_time", order.update_time), ("create_time", order.create_time)):
        low, high = filters.get(f"{name}_ge"), filters.get(f"{name}_lt")
        if isinstance(low, int) and value < low:
            return False
        if isinstance(high, int) and value >= high:
            return False
    status = filters.get("order_status")
    return not status or order.status == status


def render_order(order: SimOrder) -> dict[str, Any]:
    """The 202309 order object: amounts as strings, one line item per unit (no quantity field)."""
    line_items: list[dict[str, Any]] = []
    for line in order.lines:
        for _ in range(line.quantity):
            line_items.append(
                {
                    "id": f"{order.order_id}{len(line_items) + 1:03d}",
                    "product_id": "1729" + _digits(line.sku_id, 15),
                    "product_name": line.product_name,
                    "sku_id": line.sku_id,
                    "seller_sku": line.seller_sku,
                    "sku_name": line.sku_name,
                    "original_price": str(line.original_price),
                    "sale_price": str(line.unit_price),
                    "currency": "VND",
                    "display_status": order.status,
                    "package_status": "TO_FULFILL",
                    "is_gift": False,
                    "seller_discount": str(line.original_price - line.unit_price),
                    "platform_discount": "0",
                }
            )
    return {
        "id": order.order_id,
        "status": order.status,
        "create_time": order.create_time,
        "update_time": order.update_time,
        "paid_time": order.create_time,
        "is_cod": order.is_cod,
        "payment_method_name": "Cash on delivery" if order.is_cod else "Ví điện tử",
        "shipping_type": "TIKTOK",
        "user_id": "7" + _digits(order.buyer.phone, 17),
        "buyer_message": "",
        "payment": _payment(order),
        "recipient_address": _address(order),
        "line_items": line_items,
    }


def _payment(order: SimOrder) -> dict[str, str]:
    discount = order.original_subtotal - order.subtotal
    return {
        "currency": "VND",
        "original_total_product_price": str(order.original_subtotal),
        "seller_discount": str(max(discount, 0)),
        "platform_discount": "0",
        "sub_total": str(order.subtotal),
        "original_shipping_fee": str(order.shipping_fee),
        "shipping_fee": str(order.shipping_fee),
        "tax": "0",
        "total_amount": str(order.total),
    }


def _address(order: SimOrder) -> dict[str, Any]:
    levels = [("L0", "Country", "Vietnam"), ("L1", "Province", order.address.province)]
    if order.address.district:
        levels.append(("L2", "District", order.address.district))
    levels.append((f"L{len(levels)}", "Ward", order.address.commune))
    return {
        "name": order.buyer.name,
        "phone_number": order.buyer.phone,
        "full_address": order.full_address,
        "address_detail": order.address.street,
        "postal_code": order.address.postal_code or "",
        "region_code": "VN",
        "district_info": [
            {"address_level": lvl, "address_level_name": name, "address_name": value}
            for lvl, name, value in levels
        ],
    }


def _shop_for(cfg: TikTokShopSimConfig, grants: Grants, request: Request) -> str | None:
    # A cipher of a shop this token's seller never authorised is as unknown as a made-up one.
    cipher = request.query_params.get("shop_cipher", "")
    token = request.headers.get("x-tts-access-token")
    shop = next((shop for shop, c in cfg.shops.items() if c == cipher), None)
    return shop if shop is not None and grants.covers(token, shop) else None


def _render_shop(cfg: TikTokShopSimConfig, shop_id: str) -> dict[str, str]:
    name = cfg.shop_names.get(shop_id, f"TikTok Shop {shop_id[-4:]}")
    code = "VNLC" + _digits(shop_id, 6)
    return {
        "id": shop_id,
        "name": name,
        "region": "VN",
        "seller_type": "LOCAL",
        "cipher": cfg.shops[shop_id],
        "code": code,
    }


def _digits(text: str, count: int) -> str:
    # Stable across processes, unlike hash(): ids must not change between runs.
    return str(int(hashlib.sha256(text.encode()).hexdigest(), 16))[:count].zfill(count)


def _encode_page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _decode_page_token(token: str) -> int:
    if not token:
        return 0
    text = base64.urlsafe_b64decode(token.encode()).decode()
    if not text.startswith("offset:") or not text[7:].isdigit():
        raise ValueError("bad page token")
    return int(text[7:])
