"""VTP webhooks: verify the shared secret, parse `{"DATA": {...}, "TOKEN": ...}`."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson

from integrations.carriers.base import TrackingUpdate, WebhookPayloadError
from integrations.carriers.numbers import optional_int
from integrations.carriers.viettel_post.parsers import CARRIER
from integrations.carriers.viettel_post.statuses import describe_reason, map_status

# ORDER_STATUSDATE is Vietnam local time; Vietnam has had no daylight saving since 1975, so a
# fixed offset is exact and avoids depending on the system's tz database.
VIETNAM_TZ = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")
STATUS_DATE_FORMAT = "%d/%m/%Y %H:%M:%S"


def _same(given: str | None, secret: str) -> bool:
    if not given:
        return False
    return hmac.compare_digest(given.strip().encode("utf-8"), secret.encode("utf-8"))


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)


def verify_webhook(headers: Mapping[str, str], raw_body: bytes, secret: str) -> bool:
    """True when the `Authorization` header or body `TOKEN` equals our secret (constant time)."""
    if not secret:
        return False
    # VTP-DOC puts the portal's "Secret parameters" in `Authorization` and also describes the body
    # `TOKEN` as a partner-given secret, but a 2022 payload carried a short unrelated TOKEN. Which
    # one VTP fills with our secret is therefore not settled (fact sheet §1.7): either place is
    # accepted, both compared in constant time. An attacker still needs the secret for either.
    header_ok = _same(_header(headers, "Authorization"), secret)
    token: Any = None
    try:
        doc = orjson.loads(raw_body)
        token = doc.get("TOKEN") if isinstance(doc, dict) else None
    except orjson.JSONDecodeError:
        token = None
    token_ok = _same(token if isinstance(token, str) else None, secret)
    return header_ok or token_ok


def parse_status_date(value: str) -> datetime:
    """`dd/MM/yyyy HH:mm:ss` in Vietnam time → aware UTC datetime (ISO 8601 accepted as well)."""
    text = value.strip()
    for fmt in (STATUS_DATE_FORMAT, "%d/%m/%Y %H:%M"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=VIETNAM_TZ).astimezone(UTC)
        except ValueError:
            continue
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise WebhookPayloadError(f"unreadable ORDER_STATUSDATE {value!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=VIETNAM_TZ)
    return parsed.astimezone(UTC)


def _update(data: dict[str, Any]) -> TrackingUpdate:
    waybill = data.get("ORDER_NUMBER")
    code = optional_int(data.get("ORDER_STATUS"))
    status_date = data.get("ORDER_STATUSDATE")
    if not waybill or code is None or not isinstance(status_date, str):
        raise WebhookPayloadError("DATA lacks ORDER_NUMBER, ORDER_STATUS or ORDER_STATUSDATE")
    info = map_status(code)
    reason_code = optional_int(data.get("REASON_CODE"))
    reason = describe_reason(reason_code) or info.reason
    reference = data.get("ORDER_REFERENCE")
    return TrackingUpdate(
        carrier=CARRIER,
        waybill=str(waybill),
        reference=str(reference) if reference else None,
        raw_status=str(code),
        status=info.status,
        reason=reason,
        occurred_at=parse_status_date(status_date),
        cod_amount_vnd=optional_int(data.get("MONEY_COLLECTION")),
        weight_grams=optional_int(data.get("PRODUCT_WEIGHT")),
        # VTP sends duplicates and redundant events; one real event is (waybill, status, time).
        event_key=f"{waybill}:{code}:{status_date.strip()}",
    )


def parse_webhook(raw_body: bytes) -> list[TrackingUpdate]:
    """Tracking updates in one VTP webhook body (DATA is one object; a list is accepted too)."""
    try:
        doc = orjson.loads(raw_body)
    except orjson.JSONDecodeError as exc:
        raise WebhookPayloadError("Viettel Post webhook body is not JSON") from exc
    data = doc.get("DATA") if isinstance(doc, dict) else None
    candidates: list[Any] = data if isinstance(data, list) else [data]
    rows = [r for r in candidates if isinstance(r, dict)]
    if not rows or len(rows) != len(candidates):
        raise WebhookPayloadError("Viettel Post webhook body has no DATA object")
    return [_update(r) for r in rows]


REDACTED = "[redacted]"


def redact_token(raw_body: bytes) -> bytes:
    """The body with its `TOKEN` (possibly our webhook secret) replaced, fit to be stored."""
    try:
        doc = orjson.loads(raw_body)
    except orjson.JSONDecodeError:
        return raw_body
    if not isinstance(doc, dict) or "TOKEN" not in doc:
        return raw_body
    doc["TOKEN"] = REDACTED
    return orjson.dumps(doc)
