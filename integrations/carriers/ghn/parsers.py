"""Pure parsers for GHN responses: the `{code, message, data}` envelope and bodies."""

from __future__ import annotations

from typing import Any

import orjson

from integrations.carriers.base import (
    Booking,
    CarrierAuthError,
    CarrierError,
    DuplicateReference,
    OrderState,
)
from integrations.carriers.http import is_transient_status
from integrations.carriers.numbers import as_int, optional_int
from integrations.carriers.text import fold

CARRIER = "ghn"


def _describe(doc: dict[str, Any]) -> str:
    message = str(doc.get("message") or "")
    code_message = str(doc.get("code_message") or "")
    return f"{message} ({code_message})" if code_message else message


def is_duplicate(doc: dict[str, Any]) -> bool:
    """True when GHN refused a create because `client_order_code` is already used."""
    # UNCONFIRMED: the exact duplicate error is not in the fact sheet; both the machine code and
    # the Vietnamese/English wording are recognised.
    code_message = str(doc.get("code_message") or "").upper()
    if "CLIENT" in code_message and ("EXIST" in code_message or "DUPLICATE" in code_message):
        return True
    text = fold(str(doc.get("message") or ""))
    names_code = "client_order_code" in text or "ma don" in text
    return names_code and any(w in text for w in ("ton tai", "exist", "duplicate", "trung"))


def is_not_found(doc: dict[str, Any]) -> bool:
    """True when GHN says the order does not exist."""
    if "NOT_FOUND" in str(doc.get("code_message") or "").upper():
        return True
    text = fold(str(doc.get("message") or ""))
    return any(w in text for w in ("not found", "khong tim thay", "khong ton tai"))


def decode(status_code: int, body: bytes) -> Any:
    """JSON of a response body; a non-JSON body is an error (transient when the status says so)."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise CarrierError(
            f"GHN answered HTTP {status_code} with a non-JSON body",
            f"http_{status_code}",
            is_transient_status(status_code),
        ) from exc


def check_response(status_code: int, body: bytes, *, reference: str | None = None) -> Any:
    """The envelope when `code` is 200; otherwise the matching CarrierError is raised."""
    raw = decode(status_code, body)
    doc: dict[str, Any] = raw if isinstance(raw, dict) else {}
    code = as_int(doc.get("code"), status_code)
    if code == 200 and status_code < 400:
        return doc
    detail = _describe(doc) or f"HTTP {status_code}"
    if status_code in (401, 403) or code in (401, 403):
        raise CarrierAuthError(f"GHN refused the token: {detail}")
    if reference is not None and is_duplicate(doc):
        raise DuplicateReference(
            f"GHN already has client_order_code {reference}: {detail}", reference
        )
    if is_not_found(doc):
        raise CarrierError(f"GHN: {detail}", "not_found", False)
    transient = is_transient_status(status_code) or code >= 500
    raise CarrierError(f"GHN error: {detail}", "rejected", transient)


def _data(doc: Any) -> Any:
    return doc.get("data") if isinstance(doc, dict) else None


def parse_create(doc: Any, reference: str) -> Booking:
    """Booking from a create response (`data.order_code` is the GHN waybill)."""
    data = _data(doc)
    if not isinstance(data, dict) or not data.get("order_code"):
        raise CarrierError("GHN create answered without data.order_code", "bad_response")
    # UNCONFIRMED: create-response keys come from third-party code (order_code, sort_code,
    # total_fee); GHN's response section was not retrieved.
    sort_code = data.get("sort_code")
    return Booking(
        carrier=CARRIER,
        reference=reference,
        waybill=str(data["order_code"]),
        fee_vnd=as_int(data.get("total_fee")),
        sort_code=str(sort_code) if sort_code else None,
        label_url=None,
        raw=data,
    )


def parse_detail(doc: Any, reference: str) -> Booking | None:
    """Booking from a detail-by-client-code response, or None if it is for another reference."""
    data = _data(doc)
    rows = data if isinstance(data, list) else [data]
    for row in rows:
        if isinstance(row, dict) and str(row.get("client_order_code") or "") == reference:
            return parse_create({"data": row}, reference)
    return None


def parse_state(doc: Any) -> OrderState:
    """The parcel's current status and COD amount from a detail response."""
    data = _data(doc)
    row = data[0] if isinstance(data, list) and data else data
    if not isinstance(row, dict) or not row.get("order_code") or not row.get("status"):
        raise CarrierError("GHN detail answered without order_code and status", "bad_response")
    reference = row.get("client_order_code")
    return OrderState(
        waybill=str(row["order_code"]),
        reference=str(reference) if reference else None,
        raw_status=str(row["status"]),
        cod_amount_vnd=optional_int(row.get("cod_amount")),
    )


def parse_cancel(doc: Any, waybill: str) -> None:
    """Raise CarrierError with GHN's reason unless the waybill's cancel `result` is true."""
    rows = _data(doc)
    for row in rows if isinstance(rows, list) else []:
        if isinstance(row, dict) and str(row.get("order_code")) == waybill:
            if row.get("result") is True:
                return
            reason = str(row.get("message") or "no reason given")
            raise CarrierError(f"GHN refused to cancel {waybill}: {reason}", "cancel_refused")
    raise CarrierError(f"GHN cancel answered without a result for {waybill}", "bad_response")


def parse_gen_token(doc: Any) -> str:
    """The 30-minute print token from `a5/gen-token`."""
    data = _data(doc)
    token = data.get("token") if isinstance(data, dict) else None
    if not isinstance(token, str) or not token:
        raise CarrierError("GHN gen-token answered without a token", "bad_response")
    return token
