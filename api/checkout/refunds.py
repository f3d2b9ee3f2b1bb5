"""Refunds of paid direct orders: asked for in a transaction, made by a job, recorded after.

The refund job calls Stripe with the idempotency key `refund-{order id}`, so however often it
runs (arq delivers at least once) Stripe makes one refund; the state guard here (only a
`requested` refund is sent, only once its answer is recorded does it move on) keeps us from
asking at all once the answer is in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.checkout.lifecycle import lock_by_order
from api.checkout.models import Checkout, RefundStatus
from api.orders import events
from api.orders.models import PaymentStatus
from integrations.payments.types import Refund

SOURCE = "refund"


@dataclass(frozen=True)
class RefundCall:
    """What the job sends to Stripe."""

    order_id: int
    payment_intent: str
    amount_vnd: int
    idempotency_key: str


async def refund_to_send(session: AsyncSession, order_id: int) -> RefundCall | None:
    """The refund still to be made for this order, or None (none asked, or already answered)."""
    found = await lock_by_order(session, order_id)
    if found is None:
        return None
    checkout, _ = found
    if checkout.refund_status != RefundStatus.REQUESTED.value or checkout.payment_intent is None:
        return None
    return RefundCall(order_id, checkout.payment_intent, checkout.amount_vnd, f"refund-{order_id}")


async def record_refund(session: AsyncSession, order_id: int, refund: Refund) -> str:
    """Store Stripe's answer: the refund id and status; a succeeded refund marks the order."""
    found = await lock_by_order(session, order_id)
    if found is None:
        return "gone"
    checkout, order = found
    if checkout.refund_status == RefundStatus.SUCCEEDED.value:
        return "already_refunded"
    if checkout.refund_id not in (None, refund.id):
        return "other_refund_ignored"
    checkout.refund_id = refund.id
    succeeded = refund.status == "succeeded"
    failed = refund.status in ("failed", "canceled")
    checkout.refund_status = (
        RefundStatus.SUCCEEDED
        if succeeded
        else RefundStatus.FAILED
        if failed
        else RefundStatus.PENDING
    ).value
    if succeeded:
        order.payment_status = PaymentStatus.REFUNDED.value
    assert order.id is not None
    events.record(
        session, order.id, "refunded" if succeeded else "refund_" + checkout.refund_status, SOURCE,
        refund_id=refund.id, amount_vnd=refund.amount_vnd, status=refund.status,
    )  # fmt: skip
    return checkout.refund_status


async def record_refund_refused(session: AsyncSession, order_id: int, message: str) -> None:
    """Stripe refused the refund for good: a person must look (the order says why)."""
    found = await lock_by_order(session, order_id)
    if found is None:
        return
    checkout, order = found
    if checkout.refund_status != RefundStatus.REQUESTED.value:
        return
    checkout.refund_status = RefundStatus.FAILED.value
    checkout.refund_reason = f"refund refused: {message}"[:500]
    assert order.id is not None
    events.record(session, order.id, "refund_failed", SOURCE, reason=message[:500])


# Stripe's word on a refund after our call (a refund may stay pending, then succeed or fail).
REFUND_EVENTS = frozenset({"refund.created", "refund.updated", "refund.failed"})


async def apply_refund_event(session: AsyncSession, obj: dict[str, Any]) -> str:
    """A refund event: the refund's state recorded on its order (unknown refunds ignored)."""
    refund_id, intent = obj.get("id"), obj.get("payment_intent")
    if not isinstance(refund_id, str):
        return "unparseable"
    order_id = (
        await session.execute(
            select(col(Checkout.order_id)).where(
                (col(Checkout.refund_id) == refund_id)
                # Ours before the job stored its answer: only while our refund is asked for.
                | (
                    (col(Checkout.payment_intent) == intent)
                    & col(Checkout.refund_id).is_(None)
                    & (col(Checkout.refund_status) == RefundStatus.REQUESTED.value)
                )
            )
        )
    ).scalar_one_or_none()
    if order_id is None:
        return "unknown_refund_ignored"  # made elsewhere (Stripe's dashboard): not ours to book
    refund = Refund(
        id=refund_id,
        status=str(obj.get("status")),
        amount_vnd=int(obj.get("amount") or 0),
        payment_intent=intent if isinstance(intent, str) else None,
    )
    return await record_refund(session, int(order_id), refund)
