"""Thin async Viettel Post client: login and token cache, address ids, booking, cancel, label."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from integrations.carriers.base import (
    Address,
    Booking,
    BookingRequest,
    CarrierAuthError,
    CarrierError,
    Label,
)
from integrations.carriers.http import Http, send
from integrations.carriers.viettel_post import addresses, parsers
from integrations.carriers.viettel_post import requests as build
from integrations.carriers.viettel_post.parsers import CARRIER

PRODUCTION_BASE = "https://partner.viettelpost.vn"
_PRINT_HOSTS = {
    "partner.viettelpost.vn": "https://digitalize.viettelpost.vn",
    "partnerdev.viettelpost.vn": "https://dev-print.viettelpost.vn",
}
_TOKEN_MARGIN_S = 60.0


@dataclass(frozen=True)
class ViettelPostConfig:
    """Credentials and choices for one Viettel Post account."""

    username: str
    password: str = field(repr=False)
    api_base: str = PRODUCTION_BASE
    webhook_secret: str = field(default="", repr=False)
    service_code: str | None = None  # fixed ORDER_SERVICE; None → pick from getPriceAll
    service_add: str = ""  # ORDER_SERVICE_ADD add-ons, comma separated
    group_address_id: int = 0  # the 2025 doc says 0; set the warehouse id if VTP requires it
    cus_id: int | None = None
    print_base: str | None = None  # None → derived from api_base
    label_paper: str = "2"  # 1 = A5, 2 = A6, 1001 = A7
    label_valid_s: int = 24 * 3600
    token_ttl_s: float = 23 * 3600  # ECHBAY's cache time; VTP's own `expired` wins if sooner
    # A route's services change with VTP's contracts, not per parcel: one getPriceAll per route
    # (sender province → receiver province) serves every booking on it for this long.
    service_cache_s: float = 6 * 3600

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ViettelPostConfig:
        """Read VIETTEL_POST_API_BASE, _USERNAME, _PASSWORD, _WEBHOOK_SECRET, _SERVICE_CODE."""
        return cls(
            username=env.get("VIETTEL_POST_USERNAME", ""),
            password=env.get("VIETTEL_POST_PASSWORD", ""),
            api_base=env.get("VIETTEL_POST_API_BASE", PRODUCTION_BASE),
            webhook_secret=env.get("VIETTEL_POST_WEBHOOK_SECRET", ""),
            service_code=env.get("VIETTEL_POST_SERVICE_CODE") or None,
        )


def default_print_base(api_base: str) -> str:
    """VTP prints on a separate host; any other base (a simulator) serves the print page itself."""
    return _PRINT_HOSTS.get(urlsplit(api_base).hostname or "", api_base.rstrip("/"))


class ViettelPostClient:
    """Viettel Post partner API over one shared httpx.AsyncClient (timeouts are the caller's)."""

    name = CARRIER

    def __init__(
        self, config: ViettelPostConfig, http: Http, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._config = config
        self._http = http
        # Epoch seconds, the scale of VTP's `expired`: tests turn it instead of waiting.
        self._clock = clock
        self._base = config.api_base.rstrip("/")
        self._token: str | None = None
        self._token_deadline = 0.0
        # One login for all concurrent bookings, and one master-data fetch per list.
        self._login_lock = asyncio.Lock()
        self._places_lock = asyncio.Lock()
        self._provinces: list[addresses.Place] | None = None
        self._wards: dict[int, list[addresses.Place]] = {}
        # (sender province id, receiver province id) -> (service code, monotonic expiry); one
        # price call per route even when a batch's bookings all ask at once.
        self._services: dict[tuple[int, int], tuple[str, float]] = {}
        self._service_locks: dict[tuple[int, int], asyncio.Lock] = {}

    async def _login(self) -> None:
        resp = await send(
            self._http,
            "POST",
            self._base + build.LOGIN_PATH,
            carrier=CARRIER,
            json_body=build.login_body(self._config.username, self._config.password),
        )
        doc = parsers.check_response(resp.status_code, resp.content)
        token, expires_at = parsers.parse_login(doc)
        lifetime = self._config.token_ttl_s
        if expires_at is not None:
            lifetime = min(lifetime, expires_at - self._clock())
        self._token = token
        self._token_deadline = self._clock() + max(lifetime - _TOKEN_MARGIN_S, 0.0)

    async def _ensure_token(self) -> str:
        if self._token is not None and self._clock() < self._token_deadline:
            return self._token
        async with self._login_lock:
            if self._token is None or self._clock() >= self._token_deadline:
                await self._login()
            assert self._token is not None
            return self._token

    def _drop_token(self, token: str) -> None:
        # Only forget the token that was refused: a concurrent call may already hold a fresh one.
        if self._token == token:
            self._token = None

    async def _call(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: dict[str, str] | None = None,
        reference: str | None = None,
    ) -> Any:
        """One authenticated call; a refused token triggers one fresh login and one retry."""
        for attempt in range(2):
            token = await self._ensure_token()
            resp = await send(
                self._http,
                method,
                self._base + path,
                carrier=CARRIER,
                headers={"Token": token},
                json_body=json_body,
                params=params,
            )
            try:
                return parsers.check_response(resp.status_code, resp.content, reference=reference)
            except CarrierAuthError as exc:
                if exc.code != "token_rejected" or attempt:
                    raise
                self._drop_token(token)
        raise AssertionError("unreachable")

    async def _province_places(self) -> list[addresses.Place]:
        if self._provinces is None:
            async with self._places_lock:
                if self._provinces is None:
                    doc = await self._call("GET", addresses.PROVINCES_PATH)
                    provinces = addresses.parse_provinces(doc)
                    if not provinces:
                        raise CarrierError(
                            "Viettel Post returned no provinces", "bad_response", True
                        )
                    self._provinces = provinces
        return self._provinces

    async def _ward_places(self, province_id: int) -> list[addresses.Place]:
        if province_id not in self._wards:
            async with self._places_lock:
                if province_id not in self._wards:
                    doc = await self._call(
                        "GET", addresses.WARDS_PATH, params={"provinceId": str(province_id)}
                    )
                    wards = addresses.parse_wards(doc)
                    if not wards:
                        # Not cached: an empty answer would block the province until restart.
                        return []
                    self._wards[province_id] = wards
        return self._wards[province_id]

    async def resolve(self, address: Address) -> build.AddressIds:
        """VTP v3 ids for a two-tier address; CarrierError if VTP does not know the names."""
        province = addresses.find_place(await self._province_places(), address.province)
        if province is None:
            raise CarrierError(f"Viettel Post has no province {address.province!r}", "bad_address")
        ward = addresses.find_place(await self._ward_places(province.id), address.ward)
        if ward is None:
            raise CarrierError(
                f"Viettel Post has no ward {address.ward!r} in {province.name}", "bad_address"
            )
        return build.AddressIds(province.id, ward.id)

    async def _service_for(
        self, req: BookingRequest, sender: build.AddressIds, receiver: build.AddressIds
    ) -> str:
        fixed = req.service_code or self._config.service_code
        if fixed:
            return fixed
        route = (sender.province_id, receiver.province_id)
        async with self._service_locks.setdefault(route, asyncio.Lock()):
            cached = self._services.get(route)
            if cached is not None and time.monotonic() < cached[1]:
                return cached[0]
            doc = await self._call(
                "POST", build.PRICE_ALL_PATH, json_body=build.price_all_body(req, sender, receiver)
            )
            service = parsers.choose_service(parsers.parse_price_all(doc), None)
            self._services[route] = (service, time.monotonic() + self._config.service_cache_s)
            return service

    async def book(self, req: BookingRequest) -> Booking:
        """createOrder with our reference as ORDER_NUMBER; DuplicateReference if already booked."""
        sender = await self.resolve(req.sender)
        receiver = await self.resolve(req.receiver)
        service = await self._service_for(req, sender, receiver)
        body = build.create_order_body(
            req,
            sender,
            receiver,
            service,
            group_address_id=self._config.group_address_id,
            cus_id=self._config.cus_id,
            service_add=self._config.service_add,
        )
        doc = await self._call(
            "POST", build.CREATE_ORDER_PATH, json_body=body, reference=req.reference
        )
        return parsers.parse_create(doc, req.reference)

    async def find_by_reference(self, reference: str) -> Booking | None:
        """The booking VTP holds for our ORDER_NUMBER, or None.

        UNCONFIRMED: VTP-DOC documents no lookup; this uses the order-info route a third-party
        client calls. Independently of it, createOrder always sends CHECK_UNIQUE, so a blind
        retry can never create a second parcel, and the first webhook carries our reference
        (ORDER_REFERENCE) with the waybill, which is VTP's own advice after a create timeout.
        """
        try:
            doc = await self._call("GET", build.ORDER_INFO_PATH, params={"orderNumber": reference})
        except CarrierError as exc:
            if parsers.is_not_found(exc):
                return None
            raise
        return parsers.parse_order_info(doc, reference)

    async def cancel(self, waybill: str) -> None:
        """UpdateOrder TYPE 4; VTP refuses from pickup on (status 105, 107 or >= 200)."""
        try:
            await self._call(
                "POST", build.UPDATE_ORDER_PATH, json_body=build.cancel_body(waybill, "Hủy đơn")
            )
        except CarrierAuthError:
            raise
        except CarrierError as exc:
            if exc.transient or exc.code not in ("rejected", "not_found"):
                raise
            raise CarrierError(
                f"Viettel Post refused to cancel {waybill}: {exc.message}",
                "cancel_refused" if exc.code == "rejected" else "not_found",
                exc.transient,
            ) from exc

    async def label(self, waybill: str) -> Label:
        """A print link for the label (valid for `label_valid_s`)."""
        expires = self._clock() + self._config.label_valid_s
        expiry_ms = int(expires * 1000)
        doc = await self._call(
            "POST",
            build.PRINTING_CODE_PATH,
            json_body=build.printing_code_body([waybill], expiry_ms),
        )
        code = parsers.parse_printing_code(doc)
        base = self._config.print_base or default_print_base(self._base)
        url = build.print_url(base, code, self._config.label_paper)
        return Label(url, datetime.fromtimestamp(expires, UTC))
