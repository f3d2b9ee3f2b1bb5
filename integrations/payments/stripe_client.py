"""Stripe through the official library: Checkout Sessions and Refunds in VND, webhook checks.

Every call goes through `stripe.StripeClient` with the library's async HTTPX client, so the base
address (STRIPE_API_BASE) can be the real API or the simulator. VND is a zero-decimal currency:
amounts are whole dong on the wire. Every create carries the caller's idempotency key, so a retry
after a timeout replays Stripe's first answer instead of creating a second session or refund.

Errors come out as the provider-neutral `PaymentError` (refused for good) or `PaymentUnavailable`
(network, 429, 5xx: retry with the same key). Neither the API key nor buyer data is ever logged.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any, TypeVar

import orjson
import stripe

from integrations.payments.types import (
    CheckoutLine,
    CheckoutSession,
    PaymentError,
    PaymentEvent,
    PaymentUnavailable,
    Refund,
    SignatureInvalid,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

CURRENCY = "vnd"
# The reasons Stripe's refund API accepts; anything else travels in the refund's metadata.
STRIPE_REFUND_REASONS = frozenset({"duplicate", "fraudulent", "requested_by_customer"})


def _str_dict(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    raw = value.to_dict() if hasattr(value, "to_dict") else dict(value)
    return {str(k): str(v) for k, v in raw.items()}


def _opt_str(value: Any) -> str | None:
    """An id field that may be expanded into an object (take its id) or absent."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    found = getattr(value, "id", None)
    return None if found is None else str(found)


def session_from(obj: Any) -> CheckoutSession:
    """Our view of a `checkout.session` (a library object or its plain dict)."""

    def get(name: str) -> Any:
        return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)

    amount = get("amount_total")
    return CheckoutSession(
        id=str(get("id")),
        url=get("url"),
        status=str(get("status")),
        payment_status=str(get("payment_status")),
        amount_total_vnd=None if amount is None else int(amount),
        payment_intent=_opt_str(get("payment_intent")),
        client_reference_id=get("client_reference_id"),
        expires_at=int(get("expires_at") or 0),
        metadata=_str_dict(get("metadata")),
    )


def refund_from(obj: Any) -> Refund:
    """Our view of a `refund` object."""
    return Refund(
        id=str(obj.id),
        status=str(obj.status),
        amount_vnd=int(obj.amount),
        payment_intent=_opt_str(getattr(obj, "payment_intent", None)),
    )


def _error_field(exc: stripe.StripeError, name: str) -> str | None:
    body = exc.json_body
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        value = body["error"].get(name)
        return None if value is None else str(value)
    return None


def map_error(exc: stripe.StripeError) -> PaymentError | PaymentUnavailable:
    """A library error as ours: 4xx other than 429 is final, the rest can be retried."""
    status = exc.http_status
    code = exc.code or _error_field(exc, "code") or _error_field(exc, "type")
    # Status, code and Stripe's request id only: messages may quote what was sent.
    facts = {"status": status, "code": code, "error": type(exc).__name__,
             "request_id": exc.request_id}  # fmt: skip
    if isinstance(exc, stripe.APIConnectionError) or status is None or status == 429:
        log.warning("stripe unavailable", extra=facts)
        return PaymentUnavailable(f"Stripe unavailable ({type(exc).__name__}, status {status})")
    if status >= 500:
        log.warning("stripe unavailable", extra=facts)
        return PaymentUnavailable(f"Stripe unavailable (status {status})")
    log.info("stripe refused a request", extra=facts)
    message = _error_field(exc, "message") or type(exc).__name__
    return PaymentError(message, code=code, status=status)


async def _mapped(call: Awaitable[T]) -> T:
    """Await one Stripe call, its errors turned into ours (see `map_error`)."""
    try:
        return await call
    except stripe.StripeError as exc:
        raise map_error(exc) from None


class StripePayments:
    """The `Payments` protocol over the official `stripe` library (async calls only)."""

    def __init__(
        self,
        *,
        api_key: str,
        api_base: str,
        timeout_s: float = 20.0,
        max_network_retries: int = 2,
    ) -> None:
        # The library logs every request at INFO and request and response bodies (buyer names,
        # addresses) at DEBUG on the "stripe" logger: none of that reaches our logs.
        logging.getLogger("stripe").setLevel(logging.WARNING)
        self._http = stripe.HTTPXClient(timeout=timeout_s)
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base.rstrip("/")},
            http_client=self._http,
            max_network_retries=max_network_retries,
        )

    async def create_checkout_session(
        self,
        *,
        lines: list[CheckoutLine],
        client_reference_id: str,
        success_url: str,
        cancel_url: str,
        expires_at: int,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> CheckoutSession:
        """Create a one-off payment session in VND for `lines` (whole dong per unit)."""
        line_items: list[Any] = [
            {
                "price_data": {
                    "currency": CURRENCY,
                    "unit_amount": line.unit_amount_vnd,
                    "product_data": {"name": line.name},
                },
                "quantity": line.quantity,
            }
            for line in lines
        ]
        params: Any = {
            "mode": "payment",
            "line_items": line_items,
            "client_reference_id": client_reference_id,
            "success_url": success_url,
            "cancel_url": cancel_url,
            "expires_at": expires_at,
            "metadata": metadata,
        }
        session = await _mapped(
            self._client.v1.checkout.sessions.create_async(
                params, options={"idempotency_key": idempotency_key}
            )
        )
        return session_from(session)

    async def retrieve_checkout_session(self, session_id: str) -> CheckoutSession:
        """The session as Stripe holds it now (re-read when events arrive out of order)."""
        session = await _mapped(self._client.v1.checkout.sessions.retrieve_async(session_id))
        return session_from(session)

    async def expire_checkout_session(
        self, session_id: str, *, idempotency_key: str
    ) -> CheckoutSession:
        """Expire an open session (Stripe refuses one that is complete or already expired)."""
        session = await _mapped(
            self._client.v1.checkout.sessions.expire_async(
                session_id, options={"idempotency_key": idempotency_key}
            )
        )
        return session_from(session)

    async def create_refund(
        self, *, payment_intent: str, amount_vnd: int | None, reason: str, idempotency_key: str
    ) -> Refund:
        """Refund `amount_vnd` (None: all that is left) of a payment."""
        params: Any = {"payment_intent": payment_intent, "metadata": {"reason": reason}}
        if amount_vnd is not None:
            params["amount"] = amount_vnd
        if reason in STRIPE_REFUND_REASONS:
            params["reason"] = reason
        refund = await _mapped(
            self._client.v1.refunds.create_async(
                params, options={"idempotency_key": idempotency_key}
            )
        )
        return refund_from(refund)

    async def retrieve_refund(self, refund_id: str) -> Refund:
        """A refund as Stripe holds it now (its status may move from pending)."""
        refund = await _mapped(self._client.v1.refunds.retrieve_async(refund_id))
        return refund_from(refund)

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._http.close_async()  # type: ignore[no-untyped-call]


def verify_event(
    payload: bytes, sig_header: str | None, secret: str, *, tolerance_s: int = 300
) -> PaymentEvent:
    """Check a webhook's `Stripe-Signature` on the raw body with the library, and read it.

    Refused (SignatureInvalid): no header, no matching `v1` signature, a timestamp older than
    `tolerance_s`, or a body that is not a Stripe event.
    """
    if not sig_header:
        raise SignatureInvalid("no Stripe-Signature header")
    if not secret:
        raise SignatureInvalid("no webhook secret configured")
    try:
        stripe.Webhook.construct_event(payload, sig_header, secret, tolerance=tolerance_s)
    except stripe.SignatureVerificationError as exc:
        raise SignatureInvalid(f"Stripe signature refused: {exc.user_message or exc}") from None
    except (ValueError, TypeError, AttributeError):  # signed, but not an event's JSON
        raise SignatureInvalid("not a Stripe event") from None
    doc = orjson.loads(payload)
    data = doc.get("data") if isinstance(doc, dict) else None
    obj = data.get("object") if isinstance(data, dict) else None
    if (
        not isinstance(obj, dict)
        or doc.get("object") != "event"
        or not isinstance(doc.get("id"), str)
        or not isinstance(doc.get("type"), str)
    ):
        raise SignatureInvalid("not a Stripe event")
    return PaymentEvent(
        id=doc["id"],
        type=doc["type"],
        created=int(doc.get("created") or 0),
        livemode=bool(doc.get("livemode")),
        object=obj,
    )
