"""Stripe's Checkout events applied to our direct orders (called by the inbox job).

Each handler decides from the stored state under the order's row lock, so a duplicate that got
past the inbox's dedup, or events arriving out of order, change nothing they should not:
an `expired` after the payment is recorded and ignored; a `completed` after the expiry
released the stock holds it again if it is still there, else refunds the buyer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.checkout.lifecycle import bind_session, lock_by_session, mark_paid, release_unpaid
from api.checkout.models import CheckoutStatus
from api.orders import events

COMPLETED = "checkout.session.completed"
ASYNC_SUCCEEDED = "checkout.session.async_payment_succeeded"
ASYNC_FAILED = "checkout.session.async_payment_failed"
EXPIRED = "checkout.session.expired"
HANDLED_TYPES = frozenset({COMPLETED, ASYNC_SUCCEEDED, ASYNC_FAILED, EXPIRED})
PAID = frozenset({"paid", "no_payment_required"})
SOURCE = "webhook:stripe"
CURRENCY = "vnd"


@dataclass(frozen=True)
class Ending:
    """An event that ends an unpaid checkout: how it releases the stock, and the outcomes."""

    status: CheckoutStatus
    reason: str
    released: str
    after_paid: str  # the outcome when the payment came first: recorded and ignored


ENDINGS = {
    EXPIRED: Ending(
        status=CheckoutStatus.EXPIRED,
        reason="checkout session expired",
        released="released",
        after_paid="expired_after_paid_ignored",
    ),
    ASYNC_FAILED: Ending(
        status=CheckoutStatus.FAILED,
        reason="the delayed payment failed",
        released="payment_failed",
        after_paid="failed_after_paid_ignored",
    ),
}


class UnknownSession(Exception):
    """No direct order of ours has this Checkout Session: the row is parked with this reason."""


class SessionMismatch(UnknownSession):
    """The session is for another amount or currency than the order: parked, never applied."""


def _order_id(raw: object) -> int | None:
    """Our order id from the session's metadata: ASCII digits that fit a BIGINT, else None."""
    if not isinstance(raw, str) or not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        return None
    return int(raw)


@dataclass(frozen=True)
class SessionEvent:
    """What a Checkout Session event says, read from its `data.object`."""

    type: str
    session_id: str
    payment_status: str | None
    payment_intent: str | None
    order_id: int | None
    reference: str | None = None
    amount_total: int | None = None
    currency: str | None = None

    @classmethod
    def of(cls, event_type: str, obj: dict[str, Any]) -> SessionEvent:
        """Read the fields we act on (tolerating missing ones)."""
        metadata = obj.get("metadata") or {}
        raw_order = metadata.get("order_id") if isinstance(metadata, dict) else None
        intent = obj.get("payment_intent")
        if isinstance(intent, dict):  # expanded
            intent = intent.get("id")
        reference = metadata.get("order_reference") if isinstance(metadata, dict) else None
        if not isinstance(reference, str):
            reference = obj.get("client_reference_id")
        amount, currency = obj.get("amount_total"), obj.get("currency")
        return cls(
            type=event_type,
            session_id=str(obj.get("id") or ""),
            payment_status=obj.get("payment_status"),
            payment_intent=intent if isinstance(intent, str) else None,
            order_id=_order_id(raw_order),
            reference=reference if isinstance(reference, str) else None,
            amount_total=amount
            if isinstance(amount, int) and not isinstance(amount, bool)
            else None,
            currency=currency.lower() if isinstance(currency, str) else None,
        )


async def apply_session_event(session: AsyncSession, event: SessionEvent) -> str:
    """Apply one Checkout Session event; the outcome the inbox row records."""
    if event.type not in HANDLED_TYPES:
        return "ignored"
    found = await lock_by_session(session, event.session_id, event.order_id, event.reference)
    if found is None:
        raise UnknownSession(f"no direct order for checkout session {event.session_id[:80]}")
    checkout, order = found
    assert order.id is not None
    if event.type in (COMPLETED, ASYNC_SUCCEEDED) and (
        event.amount_total != checkout.amount_vnd or event.currency != CURRENCY
    ):
        # Never a confirmation for money we did not ask for: a person looks at the parked row.
        events.record(
            session, order.id, "payment_mismatch", SOURCE, session_id=event.session_id[:80],
            amount_total=event.amount_total, currency=event.currency,
        )  # fmt: skip
        raise SessionMismatch(
            f"checkout session {event.session_id[:80]} is for {event.amount_total}"
            f" {(event.currency or '?')[:8]}, order {order.id} for {checkout.amount_vnd} vnd:"
            " amount or currency differs"
        )
    bind_session(checkout, event.session_id)
    ending = ENDINGS.get(event.type)
    if ending is not None:
        if checkout.paid_at is not None:
            events.record(session, order.id, "stale_event_ignored", SOURCE, type=event.type)
            return ending.after_paid
        done = await release_unpaid(
            session, checkout, order, source=SOURCE, reason=ending.reason, status=ending.status
        )
        return ending.released if done else "already_released"
    if event.type == COMPLETED and event.payment_status not in PAID:
        if checkout.released_at is not None:
            return "already_released"  # its failure (or expiry) came first
        # A delayed method (a bank transfer): the async events say how it ends, and the stock
        # stays held (the sweeper releases only open sessions).
        checkout.status = CheckoutStatus.COMPLETE.value
        events.record(session, order.id, "awaiting_payment", SOURCE, status=event.payment_status)
        return "awaiting_payment"
    return await mark_paid(session, checkout, order, event.payment_intent, source=SOURCE)
