"""Pure builders for GHN v2 request bodies (field names as in GHN's docs)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from integrations.carriers.base import Address, BookingRequest
from integrations.carriers.text import truncate_chars

CREATE_PATH = "/v2/shipping-order/create"
DETAIL_BY_CLIENT_CODE_PATH = "/v2/shipping-order/detail-by-client-code"
# UNCONFIRMED (fact sheet §2.2: page not retrieved); used only when our reference is unknown.
DETAIL_PATH = "/v2/shipping-order/detail"
CANCEL_PATH = "/v2/switch-status/cancel"
LABEL_PATH = "/v2/a5/gen-token"
PRINT_PATHS = {
    "A5": "/a5/public-api/printA5",
    "80x80": "/a5/public-api/print80x80",
    "52x70": "/a5/public-api/print52x70",
}
_API_SUFFIX = "/shiip/public-api"

MAX_NAME_CHARS = 1024
MAX_CONTENT_CHARS = 2000
MAX_COD_VND = 50_000_000
# GHN pages disagree (5M vs 10M); the lower cap is accepted by both readings.
MAX_INSURANCE_VND = 5_000_000
PAYMENT_SHOP_PAYS = 1  # 1 = sender pays the fee, 2 = buyer pays on top of COD
REQUIRED_NOTES = ("CHOTHUHANG", "CHOXEMHANGKHONGTHU", "KHONGCHOXEMHANG")


def _party(prefix: str, address: Address) -> dict[str, str]:
    # Name style (GHN-123): GHN resolves names itself, so a 2025 two-tier address is sent as
    # province + ward names. UNCONFIRMED whether GHN needs a district for post-merger wards: the
    # legacy district name goes along only when the address still has one.
    fields = {
        f"{prefix}_name": truncate_chars(address.name, MAX_NAME_CHARS),
        f"{prefix}_phone": address.phone,
        f"{prefix}_address": truncate_chars(address.full_address or address.street, MAX_NAME_CHARS),
        f"{prefix}_ward_name": address.ward,
        f"{prefix}_province_name": address.province,
    }
    if address.district:
        fields[f"{prefix}_district_name"] = address.district
    return fields


def _items(req: BookingRequest) -> list[dict[str, Any]]:
    if req.items:
        return [
            {
                "name": truncate_chars(i.name, MAX_NAME_CHARS),
                "quantity": i.quantity,
                "price": i.price_vnd,
                "weight": i.weight_grams,
            }
            for i in req.items
        ]
    # GHN requires items[]: describe the parcel as one line.
    name = req.parcel.description or req.reference
    return [
        {
            "name": truncate_chars(name, MAX_NAME_CHARS),
            "quantity": 1,
            "price": req.parcel.value_vnd,
            "weight": req.parcel.weight_grams,
        }
    ]


def cod_amount(req: BookingRequest) -> int:
    """Amount GHN collects from the buyer: our COD total, or 0 when prepaid."""
    if req.prepaid:
        if req.cod_amount_vnd:
            raise ValueError("a prepaid booking cannot carry a COD amount")
        return 0
    if not 0 <= req.cod_amount_vnd <= MAX_COD_VND:
        raise ValueError(f"GHN collects between 0 and {MAX_COD_VND} VND")
    return req.cod_amount_vnd


def create_order_body(
    req: BookingRequest,
    *,
    required_note: str = "CHOXEMHANGKHONGTHU",
    service_type_id: int = 2,
    default_dimension_cm: int = 10,
) -> dict[str, Any]:
    """Body of `POST /v2/shipping-order/create`; `client_order_code` is our unique reference."""
    if required_note not in REQUIRED_NOTES:
        raise ValueError(f"required_note must be one of {REQUIRED_NOTES}")
    parcel = req.parcel
    body: dict[str, Any] = {
        # The sender pays GHN's fee: cod_amount is exactly what the buyer owes, never plus a fee.
        "payment_type_id": PAYMENT_SHOP_PAYS,
        "required_note": required_note,
        "note": truncate_chars(req.note, MAX_CONTENT_CHARS),
        "client_order_code": req.reference,
        **_party("from", req.sender),
        **_party("to", req.receiver),
        "cod_amount": cod_amount(req),
        "content": truncate_chars(parcel.description, MAX_CONTENT_CHARS),
        "weight": parcel.weight_grams,
        "length": parcel.length_cm or default_dimension_cm,
        "width": parcel.width_cm or default_dimension_cm,
        "height": parcel.height_cm or default_dimension_cm,
        "insurance_value": min(parcel.value_vnd, MAX_INSURANCE_VND),
        "items": _items(req),
    }
    if req.service_code and req.service_code.isdigit():
        body["service_id"] = int(req.service_code)
    else:
        body["service_type_id"] = service_type_id
    return body


def detail_by_client_code_body(reference: str) -> dict[str, str]:
    """Body of `POST /v2/shipping-order/detail-by-client-code`."""
    return {"client_order_code": reference}


def detail_body(waybill: str) -> dict[str, str]:
    """Body of `POST /v2/shipping-order/detail` (by GHN's order code)."""
    return {"order_code": waybill}


def cancel_body(waybill: str) -> dict[str, list[str]]:
    """Body of `POST /v2/switch-status/cancel`."""
    return {"order_codes": [waybill]}


def gen_token_body(waybills: list[str]) -> dict[str, list[str]]:
    """Body of `POST /v2/a5/gen-token`."""
    return {"order_codes": waybills}


def print_url(api_base: str, token: str, paper: str = "A5") -> str:
    """Label URL for a gen-token token: the print routes hang off the gateway host, not the API."""
    parts = urlsplit(api_base.rstrip("/"))
    path = parts.path[: -len(_API_SUFFIX)] if parts.path.endswith(_API_SUFFIX) else parts.path
    base = urlunsplit((parts.scheme, parts.netloc, path, "", ""))
    return f"{base}{PRINT_PATHS[paper]}?{urlencode({'token': token})}"
