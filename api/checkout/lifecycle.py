"""A direct order's payment life: held, released (expired, failed, abandoned), paid, refunded.

Every function runs in the caller's transaction with the order row locked first, then its
checkout row (one lock order for the webhook handler, the sweeper, the cancel path and the
refund job), and decides from the stored state, so a duplicate or late event changes nothing.
"""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.catalogue.models import MovementKind
from api.catalogue.stock import move_stock
from api.checkout.models import Checkout, CheckoutStatus, RefundStatus
from api.checkout.placing import CLAIM_OFFER
from api.core.db import PhienSession, utcnow
from api.core.jobs import Job
from api.live_sessions.attribution import release_order_claims
from api.orders import events
from api.orders.flags import add_flag
from api.orders.models import (
    FulfilmentStatus,
    Order,
    OrderEvent,
    OrderFlag,
    OrderLine,
    OrderStatus,
    PaymentStatus,
)
from api.orders.reservation import release_order
from api.orders.status import move_fulfilment
from api.shipments.outbox import ensure_shipment


async def _lock(session: AsyncSession, order_id: int) -> tuple[Checkout, Order] | None:
    order = (
        await session.execute(
            select(Order)
            .where(col(Order.id) == order_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if order is None:
        return None
    checkout = (
        await session.execute(
            select(Checkout)
            .where(col(Checkout.order_id) == order_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    return None if checkout is None else (checkout, order)


async def lock_by_order(session: AsyncSession, order_id: int) -> tuple[Checkout, Order] | None:
    """The order and its checkout, locked (order first); None if it is not a direct order."""
    return await _lock(session, order_id)


async def lock_by_session(
    session: AsyncSession,
    stripe_session_id: str,
    order_id: int | None = None,
    reference: str | None = None,
) -> tuple[Checkout, Order] | None:
    """The checkout of a Stripe session (or, before its id was stored, of our order id and
    reference, both from the session's metadata). The caller binds an unbound session
    (`bind_session`) once it has checked what the session says."""
    found = (
        await session.execute(
            select(col(Checkout.order_id)).where(
                col(Checkout.stripe_session_id) == stripe_session_id
            )
        )
    ).scalar_one_or_none()
    by_metadata = found is None
    if found is None and order_id is not None:
        found = order_id
    if found is None:
        return None
    locked = await _lock(session, found)
    if locked is None:
        return None
    checkout, order = locked
    if checkout.stripe_session_id not in (None, stripe_session_id):
        return None  # the metadata names an order paid through another session
    if by_metadata and (reference is None or reference != order.platform_order_id):
        # An order id alone is no proof: another environment sharing the Stripe account has
        # orders with the same ids. Our reference is unguessable and unique to this order.
        return None
    return locked


def bind_session(checkout: Checkout, stripe_session_id: str) -> None:
    """Store the session's id on a checkout found by its metadata (a no-op once stored)."""
    if checkout.stripe_session_id is None:
        checkout.stripe_session_id = stripe_session_id


async def lines_of(session: AsyncSession, order_id: int) -> list[OrderLine]:
    """The order's lines in variant order (the stock lock order)."""
    rows = await session.execute(
        select(OrderLine)
        .where(col(OrderLine.order_id) == order_id)
        .order_by(col(OrderLine.variant_id), col(OrderLine.id))
    )
    return list(rows.scalars())


async def release_unpaid(
    session: AsyncSession,
    checkout: Checkout,
    order: Order,
    *,
    source: str,
    reason: str,
    status: CheckoutStatus,
) -> bool:
    """Give an unpaid order's stock and offer units back and cancel it; False if not held."""
    if checkout.paid_at is not None or checkout.released_at is not None:
        return False
    assert order.id is not None
    lines = await lines_of(session, order.id)
    released = await release_order(session, order, lines)
    await release_order_claims(session, order, lines)
    previous = order.status
    order.status = OrderStatus.CANCELLED.value
    order.payment_status = PaymentStatus.VOIDED.value
    move_fulfilment(order, FulfilmentStatus.CANCELLED)
    checkout.released_at = utcnow()
    checkout.status = status.value
    events.record(
        session, order.id, "status_changed", source,
        **{"from": previous, "to": OrderStatus.CANCELLED.value}, reason=reason,
    )  # fmt: skip
    events.record(session, order.id, "stock_released", source, units=released)
    return True


# The source of a cooperative's cancel (`api.checkout.cancel`): a payment after it is refunded.
CANCEL_SOURCE = "cancel"


async def _cancelled_by_cooperative(session: AsyncSession, order_id: int) -> bool:
    found = await session.execute(
        select(col(OrderEvent.id))
        .where(
            col(OrderEvent.order_id) == order_id,
            col(OrderEvent.kind) == "status_changed",
            col(OrderEvent.source) == CANCEL_SOURCE,
        )
        .limit(1)
    )
    return found.scalar_one_or_none() is not None


async def _claim_again(
    session: AsyncSession, order: Order, lines: list[OrderLine]
) -> dict[int, int]:
    """The live offers' units claimed again (line id -> offer id); _NoStock past a cap."""
    claimed: dict[int, int] = {}
    if order.live_session_id is None:
        return claimed
    for line in lines:
        offer_id = (
            await session.execute(
                _OFFER_OF, {"session_id": order.live_session_id, "variant_id": line.variant_id}
            )
        ).scalar_one_or_none()
        if offer_id is None or line.id is None:
            continue
        taken = await session.execute(
            CLAIM_OFFER, {"offer_id": offer_id, "quantity": line.quantity}
        )
        if taken.first() is None:
            raise _NoStock
        claimed[line.id] = int(offer_id)
    return claimed


async def _reserve_again(session: AsyncSession, order: Order, lines: list[OrderLine]) -> bool:
    """All or nothing: the lines' units reserved again, and their live offers' units claimed
    (stock rows first, then offers: the lock order of every writer)."""
    assert order.id is not None
    try:
        async with session.begin_nested():
            for line in lines:
                if line.variant_id is None:
                    continue
                levels = await move_stock(
                    session, line.variant_id, MovementKind.RESERVED, line.quantity,
                    reason=f"direct order {order.platform_order_id} paid after expiry",
                    order_id=order.id,
                )  # fmt: skip
                if levels is None:
                    raise _NoStock
            claimed = await _claim_again(session, order, lines)
    except _NoStock:
        return False
    for line in lines:
        line.reserved_quantity = line.quantity
        line.live_offer_id = claimed.get(line.id or 0)
    return True


class _NoStock(Exception):
    pass


_OFFER_OF = text(
    "SELECT id FROM live_offers WHERE live_session_id = :session_id AND variant_id = :variant_id"
    " ORDER BY id FOR UPDATE"
)


def request_refund(session: AsyncSession, checkout: Checkout, order: Order, reason: str) -> bool:
    """Ask (once) for the payment to be refunded by the refund job after the commit."""
    if checkout.refund_status != RefundStatus.NONE.value or checkout.payment_intent is None:
        return False
    assert order.id is not None
    assert isinstance(session, PhienSession)
    checkout.refund_status = RefundStatus.REQUESTED.value
    checkout.refund_reason = reason[:500]
    events.record(session, order.id, "refund_requested", "checkout", reason=reason[:500])
    session.enqueue_after_commit(Job.REFUND_CHECKOUT, order.id, job_id=f"refund:{order.id}")
    return True


async def refund_cancelled(session: AsyncSession, order: Order) -> bool:
    """A cancelled direct order whose goods are back (the carrier confirmed the cancel): refund
    it if it was paid. The caller holds the order's row lock; a no-op for platform orders."""
    checkout = (
        await session.execute(
            select(Checkout)
            .where(col(Checkout.order_id) == order.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if checkout is None or checkout.paid_at is None:
        return False
    return request_refund(session, checkout, order, "order cancelled by the cooperative")


async def _confirm(session: AsyncSession, order: Order, source: str) -> None:
    assert order.id is not None
    previous = order.status
    order.status = OrderStatus.CONFIRMED.value
    order.payment_status = PaymentStatus.PAID.value
    order.platform_status = "paid"
    events.record(
        session, order.id, "status_changed", source,
        **{"from": previous, "to": OrderStatus.CONFIRMED.value},
    )  # fmt: skip
    # As for a confirmed platform order: the pending shipment and, after commit, its hand-off.
    await ensure_shipment(session, order, source=source)


async def mark_paid(
    session: AsyncSession, checkout: Checkout, order: Order, payment_intent: str | None,
    *, source: str,
) -> str:  # fmt: skip
    """The buyer paid: confirm and hand off; after an expiry, hold the stock again or refund."""
    if checkout.paid_at is not None:
        return "already_paid"
    assert order.id is not None
    checkout.paid_at = utcnow()
    checkout.status = CheckoutStatus.COMPLETE.value
    checkout.payment_intent = payment_intent or checkout.payment_intent
    events.record(session, order.id, "paid", source, payment_intent=payment_intent)
    if checkout.released_at is None:
        await _confirm(session, order, source)
        return "paid"
    if await _cancelled_by_cooperative(session, order.id):
        # The cooperative cancelled it while the buyer was paying: it stays cancelled, refunded.
        order.payment_status = PaymentStatus.PAID.value
        request_refund(
            session, checkout, order, "paid after the cooperative cancelled the order: refunded"
        )
        return "paid_after_cancel_refunded"
    # Paid after the reservation was released (the session expired while the buyer paid, or the
    # sweeper got there first): the order is revived only if its stock is still there.
    lines = await lines_of(session, order.id)
    if await _reserve_again(session, order, lines):
        # The one way back from cancelled (outside the status tables on purpose): the order was
        # cancelled only because its hold ran out, and the buyer has now paid for it.
        checkout.released_at = None
        order.fulfilment_status = FulfilmentStatus.RESERVED.value
        events.record(session, order.id, "stock_reserved", source, after_expiry=True)
        await _confirm(session, order, source)
        return "paid_after_expiry_reserved"
    order.payment_status = PaymentStatus.PAID.value
    reason = "paid after its reservation expired and the stock was gone: refunded"
    add_flag(order, OrderFlag.PAID_AFTER_EXPIRY, reason)
    events.record(session, order.id, "flagged", source, flag=OrderFlag.PAID_AFTER_EXPIRY.value)
    request_refund(session, checkout, order, reason)
    return "paid_after_expiry_refunded"
