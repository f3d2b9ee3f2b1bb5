"""Thin async GHN client: create with client_order_code, lookup, cancel, print label."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from integrations.carriers.base import Booking, BookingRequest, CarrierError, Label, OrderState
from integrations.carriers.ghn import parsers
from integrations.carriers.ghn import requests as build
from integrations.carriers.ghn.parsers import CARRIER
from integrations.carriers.http import Http, send

PRODUCTION_BASE = "https://online-gateway.ghn.vn/shiip/public-api"
PRINT_TOKEN_VALID_S = 30 * 60  # GHN-67: a gen-token print token lasts 30 minutes


@dataclass(frozen=True)
class GhnConfig:
    """Credentials and choices for one GHN shop."""

    token: str = field(repr=False)
    shop_id: int
    api_base: str = PRODUCTION_BASE
    required_note: str = "CHOXEMHANGKHONGTHU"  # buyer may inspect, not try: usual for produce
    service_type_id: int = 2  # 2 = light e-commerce goods (GHN-95)
    default_dimension_cm: int = 10
    label_paper: str = "A5"  # A5, 80x80 or 52x70

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> GhnConfig:
        """Read GHN_API_BASE, GHN_TOKEN and GHN_SHOP_ID."""
        return cls(
            token=env.get("GHN_TOKEN", ""),
            shop_id=int(env.get("GHN_SHOP_ID", "0") or 0),
            api_base=env.get("GHN_API_BASE", PRODUCTION_BASE),
        )


class GhnClient:
    """GHN v2 API over one shared httpx.AsyncClient (timeouts are the caller's)."""

    name = CARRIER

    def __init__(self, config: GhnConfig, http: Http) -> None:
        self._config = config
        self._http = http
        self._base = config.api_base.rstrip("/")

    def _headers(self, shop_scoped: bool) -> dict[str, str]:
        headers = {"Token": self._config.token}
        if shop_scoped:
            headers["ShopId"] = str(self._config.shop_id)
        return headers

    async def _post(
        self, path: str, body: Any, *, shop_scoped: bool, reference: str | None = None
    ) -> Any:
        resp = await send(
            self._http,
            "POST",
            self._base + path,
            carrier=CARRIER,
            headers=self._headers(shop_scoped),
            json_body=body,
        )
        return parsers.check_response(resp.status_code, resp.content, reference=reference)

    async def book(self, req: BookingRequest) -> Booking:
        """Create the order; DuplicateReference (with the waybill) if the reference is taken."""
        body = build.create_order_body(
            req,
            required_note=self._config.required_note,
            service_type_id=self._config.service_type_id,
            default_dimension_cm=self._config.default_dimension_cm,
        )
        doc = await self._post(build.CREATE_PATH, body, shop_scoped=True, reference=req.reference)
        return parsers.parse_create(doc, req.reference)

    async def find_by_reference(self, reference: str) -> Booking | None:
        """The order GHN holds for our client_order_code, or None (detail-by-client-code)."""
        try:
            doc = await self._post(
                build.DETAIL_BY_CLIENT_CODE_PATH,
                build.detail_by_client_code_body(reference),
                shop_scoped=False,
            )
        except CarrierError as exc:
            if exc.code == "not_found":
                return None
            raise
        return parsers.parse_detail(doc, reference)

    async def cancel(self, waybill: str) -> None:
        """switch-status/cancel; GHN refuses once the parcel is picked up (reason in the error)."""
        doc = await self._post(build.CANCEL_PATH, build.cancel_body(waybill), shop_scoped=True)
        parsers.parse_cancel(doc, waybill)

    async def order_state(self, waybill: str, reference: str | None) -> OrderState | None:
        """What GHN's API says about the parcel now (None: GHN has no such order).

        Webhooks are unsigned (§2.4), so their money and delivery claims are re-read here:
        by our client_order_code when known (documented), else by GHN's order code.
        """
        if reference:
            path, body = (
                build.DETAIL_BY_CLIENT_CODE_PATH,
                build.detail_by_client_code_body(reference),
            )
        else:
            path, body = build.DETAIL_PATH, build.detail_body(waybill)
        try:
            doc = await self._post(path, body, shop_scoped=False)
        except CarrierError as exc:
            if exc.code == "not_found":
                return None
            raise
        state = parsers.parse_state(doc)
        return state if state.waybill == waybill else None

    async def label(self, waybill: str) -> Label:
        """A print URL for the label; GHN's token inside it is valid for 30 minutes."""
        expires = datetime.fromtimestamp(time.time() + PRINT_TOKEN_VALID_S, UTC)
        doc = await self._post(build.LABEL_PATH, build.gen_token_body([waybill]), shop_scoped=False)
        url = build.print_url(self._base, parsers.parse_gen_token(doc), self._config.label_paper)
        return Label(url, expires)
