"""GHN API v2 simulator under `/shiip/public-api`: `Token`/`ShopId`, `{code, message, data}`.

Parcels live in memory; `/_sim/*` (see `_carrier_common`) drives statuses and inspects bookings.
Webhooks go to `{webhook_target_url}/{webhook_secret}`: GHN signs nothing, the URL is the secret.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI, Request, Response
from vietnam_provinces import Province, Ward

from integrations.carriers.text import fold
from integrations.simulators._carrier_common import (
    CarrierHooks,
    CarrierSimConfig,
    SimParcel,
    SimState,
    WebhookPusher,
    as_int,
    control_router,
    issue_print_code,
    json_response,
    label_page,
    lifespan_for,
    move,
    read_json,
    run_blocking,
)

GhnSimConfig = CarrierSimConfig

API = "/shiip/public-api"
HAPPY_PATH = [
    "ready_to_pick",
    "picking",
    "picked",
    "storing",
    "transporting",
    "sorting",
    "delivering",
    "delivered",
]
CANCELLABLE = frozenset({"ready_to_pick", "picking", "money_collect_picking"})
TERMINAL = frozenset({"delivered", "returned", "cancel"})
KNOWN = frozenset(
    {
        *HAPPY_PATH,
        "money_collect_picking",
        "money_collect_delivering",
        "delivery_fail",
        "waiting_to_return",
        "return",
        "return_transporting",
        "return_sorting",
        "returning",
        "return_fail",
        "returned",
        "cancel",
        "exception",
        "damage",
        "lost",
    }
)
NORMALISED_TO_STATUS = {
    "pending": "ready_to_pick",
    "picked_up": "picked",
    "in_transit": "transporting",
    "out_for_delivery": "delivering",
    "delivery_failed": "delivery_fail",
    "returning": "returning",
    "cancelled": "cancel",
}
REQUIRED_NOTES = frozenset({"CHOTHUHANG", "CHOXEMHANGKHONGTHU", "KHONGCHOXEMHANG"})
PRINT_TOKEN_TTL_S = 30 * 60
FEE_KEYS = (
    "CODFailedFee",
    "CODFee",
    "Coupon",
    "DeliverRemoteAreasFee",
    "DocumentReturn",
    "DoubleCheck",
    "Insurance",
    "PickRemoteAreasFee",
    "R2S",
    "Return",
    "StationDO",
    "StationPU",
)
_PREFIXES = ("thanh pho ", "tinh ", "phuong ", "xa ", "dac khu ", "thi tran ")


def _bare(name: str) -> str:
    folded = fold(name)
    for prefix in _PREFIXES:
        if folded.startswith(prefix):
            return folded[len(prefix) :]
    return folded


_WARDS_BY_PROVINCE: dict[str, set[str]] = {}
for _ward in Ward.iter_all():
    _province = Province.from_code(_ward.province_code)
    _WARDS_BY_PROVINCE.setdefault(_bare(_province.name), set()).add(_bare(_ward.name))


def envelope(data: Any = None, message: str = "Success", code: int = 200) -> dict[str, Any]:
    """GHN's response envelope."""
    return {"code": code, "message": message, "data": data}


def fail(message: str, http_status: int = 400, code_message: str = "USER_ERR_COMMON") -> Response:
    """GHN's error envelope (HTTP status mirrored in `code`)."""
    doc = {**envelope(None, message, http_status), "code_message": code_message}
    return json_response(doc, http_status)


def _address_error(body: dict[str, Any], prefix: str) -> str | None:
    province = body.get(f"{prefix}_province_name")
    ward = body.get(f"{prefix}_ward_name")
    if prefix == "from" and not province:
        return None  # from_* default to the shop's registered address
    if not isinstance(province, str) or not isinstance(ward, str):
        return f"{prefix}_province_name and {prefix}_ward_name are required"
    wards = _WARDS_BY_PROVINCE.get(_bare(province))
    if wards is None:
        return f"Không tìm thấy tỉnh/thành {province}"
    if _bare(ward) not in wards:
        return f"Không tìm thấy phường/xã {ward} thuộc {province}"
    return None


def _validation_error(body: dict[str, Any]) -> str | None:
    for name in ("to_name", "to_phone", "to_address"):
        if not body.get(name):
            return f"{name} is required"
    if body.get("required_note") not in REQUIRED_NOTES:
        return "required_note is invalid"
    if as_int(body.get("payment_type_id")) not in (1, 2):
        return "payment_type_id is invalid"
    if not 0 < as_int(body.get("weight")) <= 50_000:
        return "weight must be between 1 and 50000 grams"
    if not 0 <= as_int(body.get("cod_amount")) <= 50_000_000:
        return "cod_amount must be between 0 and 50000000"
    if not body.get("service_id") and not body.get("service_type_id"):
        return "service_type_id is required"
    if not isinstance(body.get("items"), list) or not body["items"]:
        return "items is required"
    return _address_error(body, "from") or _address_error(body, "to")


class GhnSimulator:
    """The simulator's handlers and state (one instance per app)."""

    def __init__(self, config: CarrierSimConfig) -> None:
        self.state = SimState(config)
        self.pusher = WebhookPusher(self.state, default_retries=10, default_delay_s=5.0)
        self.hooks = CarrierHooks(
            HAPPY_PATH, self.resolve_status, TERMINAL.__contains__, self.announce
        )

    @staticmethod
    def resolve_status(wanted: Any) -> str | None:
        """A GHN status as given, or the representative status of a normalised name."""
        text = str(wanted)
        return text if text in KNOWN else NORMALISED_TO_STATUS.get(text)

    def announce(self, parcel: SimParcel, extra: dict[str, Any]) -> None:
        """Push the `switch_status` webhook for a parcel's new status."""
        config = self.state.config
        if not config.webhook_target_url:
            return
        url = config.webhook_target_url.rstrip("/")
        if config.webhook_secret:
            url = f"{url}/{config.webhook_secret}"
        self.pusher.push(
            url, self.webhook_payload(parcel, extra), {}, f"{parcel.waybill}:{parcel.status}"
        )

    def webhook_payload(self, parcel: SimParcel, extra: dict[str, Any]) -> dict[str, Any]:
        """GHN's webhook body (GHN-47 fields)."""
        when = datetime.fromtimestamp(parcel.status_changed_at, UTC)
        req = parcel.request
        fee = dict.fromkeys(FEE_KEYS, 0)
        return {
            "CODAmount": parcel.cod_vnd,
            "CODTransferDate": None,
            "ClientOrderCode": parcel.reference,
            "ConvertedWeight": parcel.weight_grams,
            "Description": str(extra.get("note") or ""),
            "Fee": {**fee, "MainService": parcel.fee_vnd, "Total": parcel.fee_vnd},
            "Height": as_int(req.get("height")),
            "Length": as_int(req.get("length")),
            "Width": as_int(req.get("width")),
            "Weight": as_int(extra.get("weight_grams")) or parcel.weight_grams,
            "IsPartialReturn": False,
            "PartialReturnCode": "",
            "OrderCode": parcel.waybill,
            "PaymentType": as_int(req.get("payment_type_id")),
            "Reason": str(extra.get("reason") or ""),
            "ReasonCode": str(extra.get("reason_code") or ""),
            "ShopID": self.state.config.shop_id,
            "Status": parcel.status,
            "Time": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "TotalFee": parcel.fee_vnd,
            "Type": "switch_status",
            "Warehouse": "Bưu cục mô phỏng",
        }

    async def gate(self, request: Request, name: str, *, shop_scoped: bool) -> Response | None:
        """Count, delay, check `Token` (and `ShopId`), and maybe fail one API call."""
        self.state.calls[name] += 1
        await self.state.delay()
        config = self.state.config
        if request.headers.get("Token") != config.token:
            return fail("Token is not valid!", 401, "UNAUTHORIZED")
        if shop_scoped and request.headers.get("ShopId") != str(config.shop_id):
            return fail("Shop not found", 400, "SHOP_NOT_FOUND")
        if self.state.should_fail():
            return fail("Internal Server Error", 500, "INTERNAL_ERROR")
        return None

    def _book(self, body: dict[str, Any]) -> SimParcel:
        number = self.state.next_number()
        weight = as_int(body.get("weight"))
        fee = 22_000 + max(0, (weight - 1) // 500) * 2_500
        parcel = SimParcel(
            waybill=f"GS{number:07d}",
            reference=str(body.get("client_order_code") or ""),
            status=HAPPY_PATH[0],
            request=body,
            fee_vnd=fee,
            cod_vnd=as_int(body.get("cod_amount")),
            weight_grams=weight,
            sort_code=f"{number % 900 + 100}-G-{number % 100:02d}-A{number % 9 + 1}",
        )
        self.state.add(parcel)
        return parcel

    async def create(self, request: Request) -> Response:
        """`POST /v2/shipping-order/create`; a used client_order_code is refused."""
        denied = await self.gate(request, "create", shop_scoped=True)
        if denied:
            return denied
        body = await read_json(request)
        if not isinstance(body, dict):
            return fail("Invalid request body")
        error = _validation_error(body)
        if error:
            return fail(error)
        reference = str(body.get("client_order_code") or "")
        if reference and reference in self.state.by_reference:
            self.state.duplicates_rejected += 1
            return fail(
                f"Mã đơn hàng client_order_code {reference} đã tồn tại",
                400,
                "ORDER_CLIENT_CODE_EXISTED",
            )
        parcel = self._book(body)
        expected = datetime.now(UTC) + timedelta(days=2)
        data = {
            "order_code": parcel.waybill,
            "sort_code": parcel.sort_code,
            "trans_type": "truck",
            "total_fee": parcel.fee_vnd,
            "expected_delivery_time": expected.isoformat().replace("+00:00", "Z"),
            "fee": {
                "main_service": parcel.fee_vnd,
                "insurance": 0,
                "station_do": 0,
                "station_pu": 0,
                "return": 0,
                "r2s": 0,
                "coupon": 0,
            },
        }
        if self.state.should_time_out():
            # Accepted and stored, but answered after the client gave up.
            await asyncio.sleep(self.state.config.timeout_sleep_s)
        return json_response(envelope(data))

    async def detail_by_client_code(self, request: Request) -> Response:
        """`POST /v2/shipping-order/detail-by-client-code`."""
        denied = await self.gate(request, "detail-by-client-code", shop_scoped=False)
        if denied:
            return denied
        body = await read_json(request) or {}
        parcel = self.state.find_by_reference(str(body.get("client_order_code") or ""))
        return self._detail(parcel)

    async def detail(self, request: Request) -> Response:
        """`POST /v2/shipping-order/detail` by GHN's order code."""
        denied = await self.gate(request, "detail", shop_scoped=False)
        if denied:
            return denied
        body = await read_json(request) or {}
        return self._detail(self.state.parcels.get(str(body.get("order_code") or "")))

    @staticmethod
    def _detail(parcel: SimParcel | None) -> Response:
        if parcel is None:
            return fail("Order not found", 400, "ORDER_NOT_FOUND")
        req = parcel.request
        data = {
            "order_code": parcel.waybill,
            "client_order_code": parcel.reference,
            "status": parcel.status,
            "sort_code": parcel.sort_code,
            "total_fee": parcel.fee_vnd,
            "cod_amount": parcel.cod_vnd,
            "weight": parcel.weight_grams,
            "to_name": req.get("to_name"),
            "to_address": req.get("to_address"),
            "updated_date": datetime.fromtimestamp(parcel.status_changed_at, UTC).isoformat(),
        }
        return json_response(envelope(data))

    async def cancel(self, request: Request) -> Response:
        """`POST /v2/switch-status/cancel`: per-order result; only before pickup."""
        denied = await self.gate(request, "cancel", shop_scoped=True)
        if denied:
            return denied
        body = await read_json(request) or {}
        results = []
        for code in [str(c) for c in body.get("order_codes") or []]:
            parcel = self.state.parcels.get(code)
            if parcel is None:
                results.append({"order_code": code, "result": False, "message": "Order not found"})
            elif parcel.status not in CANCELLABLE:
                message = f"Đơn hàng đang ở trạng thái {parcel.status}, không thể hủy"
                results.append({"order_code": code, "result": False, "message": message})
            else:
                move(self.hooks, parcel, "cancel", {})
                results.append({"order_code": code, "result": True, "message": "OK"})
        return json_response(envelope(results))

    async def gen_token(self, request: Request) -> Response:
        """`POST /v2/a5/gen-token`: a print token valid for 30 minutes."""
        denied = await self.gate(request, "gen-token", shop_scoped=False)
        if denied:
            return denied
        body = await read_json(request) or {}
        codes = [str(c) for c in body.get("order_codes") or []]
        if not codes or any(c not in self.state.parcels for c in codes):
            return fail("Order not found", 400, "ORDER_NOT_FOUND")
        token = issue_print_code(self.state, codes, time.time() + PRINT_TOKEN_TTL_S)
        return json_response(envelope({"token": token}))

    async def print_page(self, request: Request) -> Response:
        """`GET /a5/public-api/printA5?token=` (and the 80x80 / 52x70 variants)."""
        return label_page(self.state, request.query_params.get("token", ""))


def create_app(config: CarrierSimConfig | None = None) -> FastAPI:
    """A GHN simulator app; its API base is `<url>/shiip/public-api`."""
    sim = GhnSimulator(config or CarrierSimConfig())
    app = FastAPI(title="GHN simulator", lifespan=lifespan_for(sim.state, sim.hooks, sim.pusher))
    routes = [
        (f"{API}/v2/shipping-order/create", sim.create, "POST"),
        (f"{API}/v2/shipping-order/detail-by-client-code", sim.detail_by_client_code, "POST"),
        (f"{API}/v2/shipping-order/detail", sim.detail, "POST"),
        (f"{API}/v2/switch-status/cancel", sim.cancel, "POST"),
        (f"{API}/v2/a5/gen-token", sim.gen_token, "POST"),
        ("/a5/public-api/printA5", sim.print_page, "GET"),
        ("/a5/public-api/print80x80", sim.print_page, "GET"),
        ("/a5/public-api/print52x70", sim.print_page, "GET"),
    ]
    for path, handler, method in routes:
        app.add_api_route(path, handler, methods=[method], include_in_schema=False)
    app.include_router(control_router(sim.state, sim.hooks, sim.pusher))
    app.state.simulator = sim
    return app


def run_ghn_simulator(host: str, port: int, config: CarrierSimConfig | None = None) -> None:
    """Serve the GHN simulator until interrupted."""
    run_blocking(create_app(config), host, port)
