"""Pure parsers for Viettel Post responses (the `{status, error, message, data}` envelope)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from integrations.carriers.base import (
    Booking,
    CarrierAuthError,
    CarrierError,
    DuplicateReference,
)
from integrations.carriers.http import is_transient_status
from integrations.carriers.numbers import as_int
from integrations.carriers.text import fold

CARRIER = "viettel_post"

# VTP-DOC §9.4 auth messages; compared folded (lower case, no diacritics).
_TOKEN_MESSAGES = ("header token is required", "token invalid")
_LOGIN_MESSAGES = ("invalid owner account or password",)
_NOT_FOUND_MESSAGES = ("order does not exist",)


@dataclass(frozen=True)
class ServiceQuote:
    """One entry of `getPriceAll`: the main service code and its price (VAT included)."""

    code: str
    name: str
    fee_vnd: int


def _message(doc: Any) -> str:
    if isinstance(doc, dict):
        return str(doc.get("message") or "")
    return ""


def decode(status_code: int, body: bytes) -> Any:
    """JSON of a response body; a non-JSON body is an error (transient when the status says so)."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise CarrierError(
            f"Viettel Post answered HTTP {status_code} with a non-JSON body",
            f"http_{status_code}",
            is_transient_status(status_code),
        ) from exc


# VTP-DOC §9.4's wording for an order it already holds (CHECK_UNIQUE refused a second one).
DUPLICATE_MESSAGES = ("order status already exists on the system",)
_SAYS_EXISTS = ("already exist", "exists", "ton tai", "duplicate", "trung lap", "bi trung")
_SAYS_MISSING = ("not exist", "khong ton tai", "chua ton tai")


def is_duplicate_message(message: str) -> bool:
    """True when an error says our ORDER_NUMBER is already booked (CHECK_UNIQUE refused it).

    Every documented wording counts (§9.4), and so does any message naming the order and
    saying it exists, in either language: treating "already booked" as a refusal would send a
    person to fix a parcel the carrier is about to collect.
    """
    text = fold(message)
    if any(m in text for m in _SAYS_MISSING):
        return False
    if any(m in text for m in DUPLICATE_MESSAGES):
        return True
    names_order = any(w in text for w in ("order", "ma don", "don hang", "van don"))
    return names_order and any(w in text for w in _SAYS_EXISTS)


def is_not_found(error: CarrierError) -> bool:
    """True for VTP's "Order does not exist"."""
    return error.code == "not_found"


def _envelope_error(doc: dict[str, Any], reference: str | None) -> CarrierError:
    message = _message(doc) or "Viettel Post reported an error without a message"
    text = fold(message)
    if any(m in text for m in _LOGIN_MESSAGES):
        return CarrierAuthError(f"Viettel Post login refused: {message}", "login_failed")
    if any(m in text for m in _TOKEN_MESSAGES):
        return CarrierAuthError(f"Viettel Post token refused: {message}", "token_rejected")
    if reference is not None and is_duplicate_message(message):
        data = doc.get("data")
        existing = data.get("ORDER_NUMBER") if isinstance(data, dict) else None
        return DuplicateReference(
            f"Viettel Post already has ORDER_NUMBER {reference}: {message}",
            reference,
            str(existing) if existing else None,
        )
    if any(m in text for m in _NOT_FOUND_MESSAGES):
        return CarrierError(message, "not_found", False)
    status = as_int(doc.get("status"))
    transient = status >= 500 or "system error" in text
    return CarrierError(f"Viettel Post error: {message}", "rejected", transient)


def check_response(status_code: int, body: bytes, *, reference: str | None = None) -> Any:
    """Decoded body after raising for HTTP errors and for `error: true` (even with HTTP 200)."""
    doc = decode(status_code, body)
    envelope = doc if isinstance(doc, dict) else None
    if status_code == 401 or (envelope is not None and as_int(envelope.get("status")) == 401):
        if envelope is not None and any(m in fold(_message(envelope)) for m in _LOGIN_MESSAGES):
            raise CarrierAuthError(f"Viettel Post login refused: {_message(envelope)}")
        raise CarrierAuthError(
            f"Viettel Post token refused: {_message(envelope)}", "token_rejected"
        )
    if envelope is not None and envelope.get("error") is True:
        raise _envelope_error(envelope, reference)
    if status_code >= 400:
        raise CarrierError(
            f"Viettel Post answered HTTP {status_code}: {_message(envelope)}",
            f"http_{status_code}",
            is_transient_status(status_code),
        )
    return doc


def parse_login(doc: Any) -> tuple[str, float | None]:
    """(token, expiry as epoch seconds or None) from a Login response."""
    data = doc.get("data") if isinstance(doc, dict) else None
    token = data.get("token") if isinstance(data, dict) else None
    if not isinstance(token, str) or not token:
        raise CarrierAuthError("Viettel Post login answered without a token", "login_failed")
    expired_ms = as_int(data.get("expired") if isinstance(data, dict) else None)
    return token, (expired_ms / 1000 if expired_ms > 0 else None)


def parse_price_all(doc: Any) -> list[ServiceQuote]:
    """Services from `getPriceAll` (a bare array; an enveloped `data` array is accepted too)."""
    rows = doc.get("data") if isinstance(doc, dict) else doc
    quotes: list[ServiceQuote] = []
    for row in rows if isinstance(rows, list) else []:
        if isinstance(row, dict) and row.get("MA_DV_CHINH"):
            quotes.append(
                ServiceQuote(
                    str(row["MA_DV_CHINH"]),
                    str(row.get("TEN_DICHVU") or ""),
                    as_int(row.get("GIA_CUOC")),
                )
            )
    return quotes


def choose_service(quotes: list[ServiceQuote], preferred: str | None) -> str:
    """The configured service when offered, else `VCN`, else the first offered (as ECHBAY does)."""
    codes = [q.code for q in quotes]
    if not codes:
        raise CarrierError("Viettel Post offers no service on this route", "no_service", False)
    for wanted in (preferred, "VCN"):
        if wanted and wanted in codes:
            return wanted
    return codes[0]


def _booking(data: dict[str, Any], reference: str) -> Booking:
    waybill = data.get("ORDER_NUMBER")
    if not waybill:
        raise CarrierError("Viettel Post answered without a waybill (ORDER_NUMBER)", "bad_response")
    # UNCONFIRMED: the sort-code key returned with ENABLE_SORT_CODE is not in the fact sheet.
    sort_code = data.get("SORT_CODE")
    return Booking(
        carrier=CARRIER,
        reference=reference,
        waybill=str(waybill),
        fee_vnd=as_int(data.get("MONEY_TOTAL")),
        sort_code=str(sort_code) if sort_code else None,
        label_url=None,
        raw=data,
    )


def parse_create(doc: Any, reference: str) -> Booking:
    """Booking from a createOrder response (`data.ORDER_NUMBER` is the VTP waybill)."""
    data = doc.get("data") if isinstance(doc, dict) else None
    if not isinstance(data, dict):
        raise CarrierError("Viettel Post createOrder answered without data", "bad_response")
    return _booking(data, reference)


def parse_order_info(doc: Any, reference: str) -> Booking | None:
    """Booking for `reference` from an order-info response, or None when it is not there."""
    data = doc.get("data") if isinstance(doc, dict) else None
    rows = data if isinstance(data, list) else [data]
    for row in rows:
        if isinstance(row, dict) and str(row.get("ORDER_REFERENCE") or "") == reference:
            return _booking(row, reference)
    return None


def parse_printing_code(doc: Any) -> str:
    """The print code, which VTP returns in `message` rather than `data`."""
    code = _message(doc).strip()
    if not code:
        raise CarrierError("Viettel Post printing-code answered without a code", "bad_response")
    return code
