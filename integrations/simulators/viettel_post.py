"""Viettel Post partner API simulator: the real paths, fields and `{status, error, message, data}`.

Parcels live in memory; `/_sim/*` (see `_carrier_common`) drives statuses and inspects bookings.
Status webhooks go to `webhook_target_url` with the secret in `Authorization` and in `TOKEN`.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from fastapi import FastAPI, Request, Response
from vietnam_provinces import Province, Ward

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

ViettelPostSimConfig = CarrierSimConfig

_VN = timezone(timedelta(hours=7))
MAX_TEXT_BYTES = 150
WARD_ID_OFFSET = 1_000_000  # VTP's new wards have ids of their own, unlike the official codes
HAPPY_PATH = ["100", "102", "103", "104", "105", "200", "300", "400", "500", "501"]
TERMINAL = frozenset({"101", "107", "201", "501", "503", "504"})
# Representative VTP code for each normalised status, so /_sim/advance also takes our names.
NORMALISED_TO_CODE = {
    "pending": "100",
    "handed_off": "-108",
    "picked_up": "105",
    "in_transit": "300",
    "out_for_delivery": "500",
    "delivered": "501",
    "delivery_failed": "506",
    "returning": "502",
    "returned": "504",
    "cancelled": "107",
}
STATUS_NAMES = {
    "100": "Tiếp nhận đơn hàng từ đối tác",
    "105": "Bưu tá đã nhận hàng",
    "107": "Đối tác yêu cầu hủy qua API",
    "501": "Phát thành công",
}
SERVICES = [("VCN", "Chuyển phát nhanh", 1.0), ("VTK", "Chuyển phát tiết kiệm", 0.85)]
_TEXT_FIELDS = (
    *(
        f"{party}_{part}"
        for party in ("SENDER", "RECEIVER")
        for part in ("FULLNAME", "ADDRESS", "PHONE")
    ),
    *("PRODUCT_NAME", "PRODUCT_DESCRIPTION", "ORDER_NOTE"),
)

_PROVINCES = {int(p.code): p for p in Province.iter_all()}
_WARD_PROVINCE = {WARD_ID_OFFSET + int(w.code): int(w.province_code) for w in Ward.iter_all()}


def envelope(
    data: Any = None, message: str = "OK", *, error: bool = False, status: int = 200
) -> Any:
    """VTP's response envelope."""
    return {"status": status, "error": error, "message": message, "data": data}


def fail(message: str, http_status: int = 200, status: int = 400) -> Response:
    """An `error: true` envelope; VTP answers most business errors with HTTP 200."""
    return json_response(envelope(None, message, error=True, status=status), http_status)


def _ward_rows(province_id: int) -> list[dict[str, Any]]:
    province = _PROVINCES.get(province_id)
    wards = Ward.iter_by_province(province.code) if province else iter(())
    return [
        {"WARDS_ID": WARD_ID_OFFSET + int(w.code), "WARDS_NAME": w.name, "PROVINCE_ID": province_id}
        for w in wards
    ]


def quote(weight_grams: int, same_province: bool) -> int:
    """A plausible fee: a base price plus a step per started 500 g beyond the first."""
    base = 16_500 if same_province else 30_000
    steps = max(0, (weight_grams - 1) // 500)
    return base + steps * 2_500


def _address_error(body: dict[str, Any], prefix: str) -> str | None:
    province, district, ward = (
        as_int(body.get(f"{prefix}_{k}")) for k in ("PROVINCE", "DISTRICT", "WARD")
    )
    if district != 0:
        return f"Invalid {prefix}_DISTRICT with address new"
    if province not in _PROVINCES or _WARD_PROVINCE.get(ward) != province:
        return f"Invalid [{prefix}_WARD, {prefix}_DISTRICT, {prefix}_PROVINCE]"
    return None


def _validation_error(body: dict[str, Any]) -> str | None:
    for name in _TEXT_FIELDS:
        value = body.get(name)
        if isinstance(value, str) and len(value.encode("utf-8")) > MAX_TEXT_BYTES:
            return f"Incorrect data: {name}"
    for item in body.get("LIST_ITEM") or []:
        item_name = item.get("PRODUCT_NAME") if isinstance(item, dict) else None
        if isinstance(item_name, str) and len(item_name.encode("utf-8")) > MAX_TEXT_BYTES:
            return "Incorrect data: LIST_ITEM.PRODUCT_NAME"
    if as_int(body.get("ORDER_PAYMENT")) not in (1, 2, 3, 4):
        return "Incorrect data: ORDER_PAYMENT"
    if body.get("PRODUCT_TYPE", "HH") not in ("HH", "TH"):
        return "Incorrect data: PRODUCT_TYPE"
    for field_name in ("SENDER_FULLNAME", "SENDER_PHONE", "RECEIVER_FULLNAME", "RECEIVER_PHONE"):
        if not body.get(field_name):
            return f"Incorrect data: {field_name}"
    if body.get("ORDER_SERVICE") not in {code for code, _, _ in SERVICES}:
        return "Price does not apply to this itinerary!"
    return _address_error(body, "SENDER") or _address_error(body, "RECEIVER")


# UpdateOrder TYPE → (allowed in this status?, status it moves to). VTP-DOC §9.1.
UPDATE_RULES: dict[int, tuple[Callable[[int], bool], str | None]] = {
    1: (lambda c: c < 200, None),  # approve
    2: (lambda c: c == 505, "502"),  # approve the return
    3: (lambda c: c in (505, 506), "508"),  # deliver again
    4: (lambda c: c < 200 and c not in (101, 105, 107), "107"),  # cancel
    11: (lambda c: c == 107, None),  # delete a cancelled order
}


class ViettelPostSimulator:
    """The simulator's handlers and state (one instance per app)."""

    def __init__(self, config: CarrierSimConfig, clock: Callable[[], float]) -> None:
        self.state = SimState(config, clock)
        self.pusher = WebhookPusher(self.state, default_retries=5, default_delay_s=5.0)
        self.hooks = CarrierHooks(
            HAPPY_PATH, self.resolve_status, TERMINAL.__contains__, self.announce
        )

    @staticmethod
    def resolve_status(wanted: Any) -> str | None:
        """A VTP code (int or digits) as given, or the representative code of a normalised name."""
        if isinstance(wanted, int) or (isinstance(wanted, str) and wanted.lstrip("-").isdigit()):
            return str(int(wanted))
        return NORMALISED_TO_CODE.get(str(wanted))

    def announce(self, parcel: SimParcel, extra: dict[str, Any]) -> None:
        """Push the status webhook for a parcel's new status."""
        config = self.state.config
        if not config.webhook_target_url:
            return
        payload = {"DATA": self.webhook_data(parcel, extra), "TOKEN": config.webhook_secret}
        headers = {"Authorization": config.webhook_secret}
        self.pusher.push(
            config.webhook_target_url, payload, headers, f"{parcel.waybill}:{parcel.status}"
        )

    @staticmethod
    def webhook_data(parcel: SimParcel, extra: dict[str, Any]) -> dict[str, Any]:
        """The DATA object of VTP's status webhook (VTP-DOC §7.1 keys)."""
        when = datetime.fromtimestamp(parcel.status_changed_at, _VN)
        req = parcel.request
        return {
            "ORDER_NUMBER": parcel.waybill,
            "ORDER_REFERENCE": parcel.reference,
            "ORDER_STATUSDATE": when.strftime("%d/%m/%Y %H:%M:%S"),
            "ORDER_STATUS": int(parcel.status),
            "STATUS_NAME": STATUS_NAMES.get(parcel.status, "Cập nhật hành trình"),
            "LOCALION_CURRENTLY": "Bưu cục mô phỏng",
            "LOCATION_CURRENTLY": "Bưu cục mô phỏng",
            "NOTE": str(extra.get("note") or ""),
            "MONEY_COLLECTION": parcel.cod_vnd,
            "MONEY_TOTALFEE": parcel.fee_vnd,
            "MONEY_TOTAL": parcel.fee_vnd,
            "EXPECTED_DELIVERY": "Khoảng 2 ngày làm việc",
            "EXPECTED_DELIVERY_DATE": None,
            "PRODUCT_WEIGHT": as_int(extra.get("weight_grams")) or parcel.weight_grams,
            "ORDER_SERVICE": req.get("ORDER_SERVICE"),
            "ORDER_SERVICE_ADD": req.get("ORDER_SERVICE_ADD") or "",
            "ORDER_PAYMENT": req.get("ORDER_PAYMENT"),
            "DETAIL": [],
            **dict.fromkeys(("MONEY_FEECOD", "MONEY_TOTALVAT", "VOUCHER_VALUE"), 0),
            "MONEY_COLLECTION_ORIGIN": None,
            "EMPLOYEE_NAME": "Bưu tá mô phỏng",
            "EMPLOYEE_PHONE": "0900000000",
            "IS_RETURNING": parcel.status in ("502", "504", "515"),
            "REASON_CODE": extra.get("reason_code"),
            "RECEIVER_FULLNAME": req.get("RECEIVER_FULLNAME"),
            "ORDER_NOTE": req.get("ORDER_NOTE") or "",
            "GROUPADDRESS_ID": req.get("GROUPADDRESS_ID", 0),
        }

    async def gate(self, request: Request, name: str) -> Response | None:
        """Count, delay, check the `Token` login token, and maybe fail one API call."""
        self.state.calls[name] += 1
        await self.state.delay()
        token = request.headers.get("Token")
        if not token:
            return fail("Header Token is required", 401, 401)
        expires = self.state.tokens.get(token)
        if expires is None or expires < self.state.clock():
            return fail("Token invalid or expired", 401, 401)
        if self.state.should_fail():
            return fail("System error", 500, 500)
        return None

    async def login(self, request: Request) -> Response:
        """`POST /v2/user/Login`."""
        self.state.calls["login"] += 1
        await self.state.delay()
        body = await read_json(request) or {}
        config = self.state.config
        if body.get("USERNAME") != config.username or body.get("PASSWORD") != config.password:
            return fail("Invalid owner account or password!")
        token = "vtp-sim-" + secrets.token_hex(16)
        expires = self.state.clock() + config.token_ttl_s
        self.state.tokens[token] = expires
        self.state.logins += 1
        data = {"userId": 1, "token": token, "partner": 1, "phone": "0900000000"}
        return json_response(envelope({**data, "expired": int(expires * 1000), "source": 5}))

    async def provinces(self, request: Request) -> Response:
        """`GET /v3/categories/listProvinceNew`."""
        denied = await self.gate(request, "listProvinceNew")
        rows = [
            {"PROVINCE_ID": pid, "PROVINCE_CODE": p.codename.upper(), "PROVINCE_NAME": p.name}
            for pid, p in _PROVINCES.items()
        ]
        return denied or json_response(envelope(rows))

    async def wards(self, request: Request) -> Response:
        """`GET /v3/categories/listWardsNew?provinceId=`."""
        denied = await self.gate(request, "listWardsNew")
        if denied:
            return denied
        province_id = as_int(request.query_params.get("provinceId"))
        return json_response(envelope(_ward_rows(province_id)))

    async def price_all(self, request: Request) -> Response:
        """`POST /v2/order/getPriceAll` (a bare array on success)."""
        denied = await self.gate(request, "getPriceAll")
        if denied:
            return denied
        body = await read_json(request) or {}
        error = _address_error(body, "SENDER") or _address_error(body, "RECEIVER")
        if error:
            return fail(error)
        same = as_int(body.get("SENDER_PROVINCE")) == as_int(body.get("RECEIVER_PROVINCE"))
        fee = quote(as_int(body.get("PRODUCT_WEIGHT")) or 50, same)
        return json_response(
            [
                {
                    "MA_DV_CHINH": code,
                    "TEN_DICHVU": name,
                    "GIA_CUOC": int(fee * factor),
                    "THOI_GIAN": "24 giờ",
                    "EXCHANGE_WEIGHT": as_int(body.get("PRODUCT_WEIGHT")),
                    "EXTRA_SERVICE": [],
                }
                for code, name, factor in SERVICES
            ]
        )

    def _book(self, body: dict[str, Any]) -> SimParcel:
        number = self.state.next_number()
        weight = as_int(body.get("PRODUCT_WEIGHT")) or 50  # VTP defaults a missing weight to 50 g
        same = as_int(body.get("SENDER_PROVINCE")) == as_int(body.get("RECEIVER_PROVINCE"))
        factor = {c: f for c, _, f in SERVICES}[str(body["ORDER_SERVICE"])]
        parcel = SimParcel(
            waybill=f"18{number:011d}",
            reference=str(body.get("ORDER_NUMBER") or ""),
            status=HAPPY_PATH[0],
            request=body,
            fee_vnd=int(quote(weight, same) * factor),
            cod_vnd=as_int(body.get("MONEY_COLLECTION")),
            weight_grams=weight,
            sort_code=f"{as_int(body.get('RECEIVER_PROVINCE')):02d}-{number % 100:02d}",
        )
        self.state.add(parcel)
        return parcel

    async def create_order(self, request: Request) -> Response:
        """`POST /v2/order/createOrder` with CHECK_UNIQUE duplicate detection on ORDER_NUMBER."""
        denied = await self.gate(request, "createOrder")
        if denied:
            return denied
        body = await read_json(request)
        if not isinstance(body, dict):
            return fail("Incorrect data")
        error = _validation_error(body)
        if error:
            return fail(error)
        reference = str(body.get("ORDER_NUMBER") or "")
        if reference and body.get("CHECK_UNIQUE") and reference in self.state.by_reference:
            self.state.duplicates_rejected += 1
            wording = self.state.config.duplicate_message
            return fail(wording or f"ORDER_NUMBER {reference} đã tồn tại trên hệ thống")
        parcel = self._book(body)
        data = {
            "ORDER_NUMBER": parcel.waybill,
            "MONEY_COLLECTION": parcel.cod_vnd,
            "EXCHANGE_WEIGHT": parcel.weight_grams,
            "MONEY_TOTAL": parcel.fee_vnd,
            "MONEY_TOTAL_FEE": int(parcel.fee_vnd / 1.1),
            **dict.fromkeys(
                ("MONEY_FEE", "MONEY_COLLECTION_FEE", "MONEY_OTHER_FEE", "MONEY_VAS"), 0
            ),
            "MONEY_VAT": parcel.fee_vnd - int(parcel.fee_vnd / 1.1),
            "KPI_HT": 48,
            "RECEIVER_PROVINCE": body.get("RECEIVER_PROVINCE"),
            "RECEIVER_DISTRICT": body.get("RECEIVER_DISTRICT"),
            "RECEIVER_WARD": body.get("RECEIVER_WARD"),
            "SORT_CODE": parcel.sort_code if body.get("ENABLE_SORT_CODE") else None,
        }
        if self.state.should_time_out():
            # Accepted and stored, but the answer comes too late for the client: the case that
            # turns a naive retry into a second parcel.
            await asyncio.sleep(self.state.config.timeout_sleep_s)
        return json_response(envelope(data))

    async def order_info(self, request: Request) -> Response:
        """`GET /v2/order/getOrderInfoByOrderNumber?orderNumber=` (waybill or our reference)."""
        denied = await self.gate(request, "getOrderInfoByOrderNumber")
        if denied:
            return denied
        if not self.state.config.order_lookup_available:
            missing = {"status": 404, "error": "Not Found", "path": request.url.path}
            return json_response(missing, 404)
        wanted = request.query_params.get("orderNumber", "")
        parcel = self.state.parcels.get(wanted) or self.state.find_by_reference(wanted)
        if parcel is None:
            return fail("Order does not exist")
        data = {
            "ORDER_NUMBER": parcel.waybill,
            "ORDER_REFERENCE": parcel.reference,
            "ORDER_STATUS": int(parcel.status),
            "MONEY_TOTAL": parcel.fee_vnd,
            "MONEY_COLLECTION": parcel.cod_vnd,
            "PRODUCT_WEIGHT": parcel.weight_grams,
            "SORT_CODE": parcel.sort_code,
        }
        return json_response(envelope(data))

    async def update_order(self, request: Request) -> Response:
        """`POST /v2/order/UpdateOrder`: TYPE 4 cancels while status < 200 and not 105/107."""
        denied = await self.gate(request, "UpdateOrder")
        if denied:
            return denied
        body = await read_json(request) or {}
        parcel = self.state.parcels.get(str(body.get("ORDER_NUMBER") or ""))
        if parcel is None:
            return fail("Order does not exist")
        kind, code = as_int(body.get("TYPE")), int(parcel.status)
        if kind not in UPDATE_RULES:
            return fail("Incorrect data: TYPE")
        allowed, target = UPDATE_RULES[kind]
        if not allowed(code):
            return fail(f"Không thể cập nhật đơn hàng ở trạng thái {code} (TYPE {kind})")
        if target is not None:
            move(self.hooks, parcel, target, {"note": body.get("NOTE")})
        return json_response(envelope(None, "Success"))

    async def printing_code(self, request: Request) -> Response:
        """`POST /v2/order/printing-code`: the code comes back in `message`."""
        denied = await self.gate(request, "printing-code")
        if denied:
            return denied
        body = await read_json(request) or {}
        waybills = [str(w) for w in body.get("ORDER_ARRAY") or []]
        expiry_ms = as_int(body.get("EXPIRY_TIME"))
        if not 1 <= len(waybills) <= 100 or expiry_ms <= self.state.clock() * 1000:
            return fail("Incorrect data: EXPIRY_TIME / ORDER_ARRAY")
        if any(w not in self.state.parcels for w in waybills):
            return fail("Order does not exist")
        code = issue_print_code(self.state, waybills, expiry_ms / 1000)
        return json_response(envelope(None, code))

    async def print_page(self, request: Request) -> Response:
        """`GET /DigitalizePrint/report.do?type=&bill=&showPostage=` (the print host's page)."""
        return label_page(self.state, request.query_params.get("bill", ""))


def create_app(
    config: CarrierSimConfig | None = None, *, clock: Callable[[], float] = time.time
) -> FastAPI:
    """A Viettel Post simulator app (serve it with `serve_in_background` or uvicorn)."""
    sim = ViettelPostSimulator(config or CarrierSimConfig(), clock)
    app = FastAPI(
        title="Viettel Post simulator", lifespan=lifespan_for(sim.state, sim.hooks, sim.pusher)
    )
    routes = [
        ("/v2/user/Login", sim.login, "POST"),
        ("/v3/categories/listProvinceNew", sim.provinces, "GET"),
        ("/v3/categories/listWardsNew", sim.wards, "GET"),
        ("/v2/order/getPriceAll", sim.price_all, "POST"),
        ("/v2/order/createOrder", sim.create_order, "POST"),
        ("/v2/order/getOrderInfoByOrderNumber", sim.order_info, "GET"),
        ("/v2/order/UpdateOrder", sim.update_order, "POST"),
        ("/v2/order/printing-code", sim.printing_code, "POST"),
        ("/DigitalizePrint/report.do", sim.print_page, "GET"),
    ]
    for path, handler, method in routes:
        app.add_api_route(path, handler, methods=[method], include_in_schema=False)
    app.include_router(control_router(sim.state, sim.hooks, sim.pusher))

    app.state.simulator = sim
    return app


def run_viettel_post_simulator(
    host: str, port: int, config: CarrierSimConfig | None = None
) -> None:
    """Serve the Viettel Post simulator until interrupted."""
    run_blocking(create_app(config), host, port)
