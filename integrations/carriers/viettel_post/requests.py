"""Pure builders for Viettel Post request bodies (field names exactly as in VTP-DOC)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from integrations.carriers.base import Address, BookingRequest
from integrations.carriers.text import truncate_utf8
from integrations.carriers.viettel_post.addresses import NEW_ADDRESS_DISTRICT_ID

LOGIN_PATH = "/v2/user/Login"
PRICE_ALL_PATH = "/v2/order/getPriceAll"
CREATE_ORDER_PATH = "/v2/order/createOrder"
UPDATE_ORDER_PATH = "/v2/order/UpdateOrder"
PRINTING_CODE_PATH = "/v2/order/printing-code"
# UNCONFIRMED (fact sheet §1.6, §7.3): only a third-party client uses this route; VTP-DOC documents
# no status lookup. We query it with our reference; see ViettelPostClient.find_by_reference.
ORDER_INFO_PATH = "/v2/order/getOrderInfoByOrderNumber"
PRINT_PATH = "/DigitalizePrint/report.do"

MAX_TEXT_BYTES = 150  # VTP's default limit for every string field, counted in UTF-8 bytes.

# ORDER_PAYMENT values (VTP-DOC §5).
PAYMENT_NO_COLLECTION = 1
PAYMENT_GOODS_AND_FEE = 2  # never used: it makes VTP add its fee on top of MONEY_COLLECTION
PAYMENT_GOODS_ONLY = 3

UPDATE_TYPE_CANCEL = 4


@dataclass(frozen=True)
class AddressIds:
    """VTP post-merger ids for one address."""

    province_id: int
    ward_id: int
    district_id: int = NEW_ADDRESS_DISTRICT_ID


def _text(value: str) -> str:
    return truncate_utf8(value, MAX_TEXT_BYTES)


def address_text(address: Address) -> str:
    """The free-text address as the buyer gave it; composed from parts only when it is empty."""
    if address.full_address.strip():
        return _text(address.full_address)
    parts = [address.street, address.ward, address.district or "", address.province]
    return _text(", ".join(p for p in parts if p))


def login_body(username: str, password: str) -> dict[str, str]:
    """Body of `POST /v2/user/Login`."""
    return {"USERNAME": username, "PASSWORD": password}


def payment_fields(req: BookingRequest) -> tuple[int, int]:
    """(ORDER_PAYMENT, MONEY_COLLECTION) for a COD or prepaid booking."""
    if req.prepaid:
        if req.cod_amount_vnd:
            raise ValueError("a prepaid booking cannot carry a COD amount")
        return PAYMENT_NO_COLLECTION, 0
    if req.cod_amount_vnd < 0:
        raise ValueError("COD amount cannot be negative")
    if req.cod_amount_vnd == 0:
        return PAYMENT_NO_COLLECTION, 0
    # Our COD amount is what the buyer owes in total, shipping included: VTP must collect exactly
    # that and bill its fee to the sender. ORDER_PAYMENT=2 would add the fee again (EPIC-PLAN §5).
    return PAYMENT_GOODS_ONLY, req.cod_amount_vnd


def _party(prefix: str, address: Address, ids: AddressIds) -> dict[str, Any]:
    return {
        f"{prefix}_FULLNAME": _text(address.name),
        f"{prefix}_ADDRESS": address_text(address),
        f"{prefix}_PHONE": _text(address.phone),
        f"{prefix}_PROVINCE": ids.province_id,
        f"{prefix}_DISTRICT": ids.district_id,
        f"{prefix}_WARD": ids.ward_id,
        f"{prefix}_LATITUDE": 0,
        f"{prefix}_LONGITUDE": 0,
    }


def _dimensions(req: BookingRequest) -> dict[str, int]:
    dims = {
        "PRODUCT_LENGTH": req.parcel.length_cm,
        "PRODUCT_WIDTH": req.parcel.width_cm,
        "PRODUCT_HEIGHT": req.parcel.height_cm,
    }
    return {k: v for k, v in dims.items() if v is not None}


def product_name(req: BookingRequest) -> str:
    """A short summary of the contents ("Gạo ST25 x2, Mật ong x1") within VTP's byte limit."""
    if req.items:
        return _text(", ".join(f"{i.name} x{i.quantity}" for i in req.items))
    return _text(req.parcel.description or req.reference)


def price_all_body(req: BookingRequest, sender: AddressIds, receiver: AddressIds) -> dict[str, Any]:
    """Body of `POST /v2/order/getPriceAll` (service matching by ids)."""
    _, collection = payment_fields(req)
    return {
        "SENDER_PROVINCE": sender.province_id,
        "SENDER_DISTRICT": sender.district_id,
        "SENDER_WARD": sender.ward_id,
        "RECEIVER_PROVINCE": receiver.province_id,
        "RECEIVER_DISTRICT": receiver.district_id,
        "RECEIVER_WARD": receiver.ward_id,
        "PRODUCT_TYPE": "HH",
        "PRODUCT_WEIGHT": req.parcel.weight_grams,
        "PRODUCT_PRICE": req.parcel.value_vnd,
        "MONEY_COLLECTION": collection,
        "TYPE": 1,
        **_dimensions(req),
    }


def create_order_body(
    req: BookingRequest,
    sender: AddressIds,
    receiver: AddressIds,
    service: str,
    *,
    group_address_id: int = 0,
    cus_id: int | None = None,
    service_add: str = "",
) -> dict[str, Any]:
    """Body of `POST /v2/order/createOrder`; `ORDER_NUMBER` is our reference, checked unique."""
    order_payment, collection = payment_fields(req)
    body: dict[str, Any] = {
        "ORDER_NUMBER": req.reference,
        "GROUPADDRESS_ID": group_address_id,
        **_party("SENDER", req.sender, sender),
        **_party("RECEIVER", req.receiver, receiver),
        "PRODUCT_NAME": product_name(req),
        "PRODUCT_DESCRIPTION": _text(req.parcel.description),
        "PRODUCT_QUANTITY": sum(i.quantity for i in req.items) or 1,
        "PRODUCT_PRICE": req.parcel.value_vnd,
        "PRODUCT_WEIGHT": req.parcel.weight_grams,
        **_dimensions(req),
        "PRODUCT_TYPE": "HH",
        "NATIONAL_TYPE": 1,
        "ORDER_PAYMENT": order_payment,
        "ORDER_SERVICE": service,
        "ORDER_SERVICE_ADD": service_add,
        "ORDER_NOTE": _text(req.note),
        "MONEY_COLLECTION": collection,
        # The idempotency lever: VTP refuses a second order with the same ORDER_NUMBER.
        "CHECK_UNIQUE": True,
        "ENABLE_SORT_CODE": True,
        "LIST_ITEM": [
            {
                "PRODUCT_NAME": _text(i.name),
                "PRODUCT_PRICE": i.price_vnd,
                "PRODUCT_WEIGHT": i.weight_grams,
                "PRODUCT_QUANTITY": i.quantity,
            }
            for i in req.items
        ],
    }
    if cus_id is not None:
        body["CUS_ID"] = cus_id
    # DELIVERY_DATE is optional and its format is contradictory in VTP-DOC (§7.2): not sent.
    return body


def cancel_body(waybill: str, note: str = "") -> dict[str, Any]:
    """Body of `POST /v2/order/UpdateOrder` with TYPE 4 (cancel; allowed before pickup only)."""
    return {"TYPE": UPDATE_TYPE_CANCEL, "ORDER_NUMBER": waybill, "NOTE": _text(note)}


def printing_code_body(waybills: list[str], expiry_ms: int) -> dict[str, Any]:
    """Body of `POST /v2/order/printing-code` (at most 100 waybills)."""
    if not 1 <= len(waybills) <= 100:
        raise ValueError("printing-code takes 1 to 100 waybills")
    return {"EXPIRY_TIME": expiry_ms, "ORDER_ARRAY": waybills}


def print_url(print_base: str, code: str, paper: str = "2") -> str:
    """Label URL for a print code; paper 1 = A5, 2 = A6, 1001 = A7."""
    query = urlencode({"type": paper, "bill": code, "showPostage": 1})
    return f"{print_base.rstrip('/')}{PRINT_PATH}?{query}"
