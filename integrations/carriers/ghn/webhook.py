"""GHN webhooks: the secret travels in our callback URL path; this parses the JSON payload."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime

import orjson

from integrations.carriers.base import TrackingUpdate, WebhookPayloadError
from integrations.carriers.ghn.parsers import CARRIER
from integrations.carriers.ghn.statuses import map_status
from integrations.carriers.numbers import optional_int


def verify_path_secret(given: str, secret: str) -> bool:
    """Constant-time check of the secret segment of `/webhooks/carriers/ghn/{secret}`."""
    # GHN documents no signature (fact sheet §2.4, UNCONFIRMED): an unguessable URL is the only
    # proof of origin, so money-relevant events should be re-read with detail-by-client-code.
    if not secret or not given:
        return False
    return hmac.compare_digest(given.encode("utf-8"), secret.encode("utf-8"))


def parse_time(value: str) -> datetime:
    """GHN `Time` (ISO 8601, UTC) → aware UTC datetime."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise WebhookPayloadError(f"unreadable GHN Time {value!r}") from exc
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def parse_webhook(raw_body: bytes) -> list[TrackingUpdate]:
    """The tracking update in one GHN webhook body (GHN posts one order per call)."""
    try:
        doc = orjson.loads(raw_body)
    except orjson.JSONDecodeError as exc:
        raise WebhookPayloadError("GHN webhook body is not JSON") from exc
    if not isinstance(doc, dict):
        raise WebhookPayloadError("GHN webhook body is not an object")
    waybill, raw_status, when = doc.get("OrderCode"), doc.get("Status"), doc.get("Time")
    if not waybill or not isinstance(raw_status, str) or not isinstance(when, str):
        raise WebhookPayloadError("GHN webhook lacks OrderCode, Status or Time")
    info = map_status(raw_status)
    kind = str(doc.get("Type") or "switch_status")
    reference = doc.get("ClientOrderCode")
    return [
        TrackingUpdate(
            carrier=CARRIER,
            waybill=str(waybill),
            reference=str(reference) if reference else None,
            raw_status=raw_status,
            status=info.status,
            reason=str(doc.get("Reason") or "") or info.reason,
            occurred_at=parse_time(when),
            cod_amount_vnd=optional_int(doc.get("CODAmount")),
            weight_grams=optional_int(doc.get("Weight")),
            # Weight/COD/fee updates carry the same Status and Time as a status change: the
            # event Type keeps them distinct.
            event_key=f"{waybill}:{kind}:{raw_status}:{when.strip()}",
        )
    ]
