"""A cooperative cancels a direct order: its stock comes back, a paid one is refunded (once).

Asked twice, the second call finds the order cancelled and the refund already asked for: one
refund, whatever the timing (the row lock, the refund state and Stripe's idempotency key).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.accounts.models import Role
from api.accounts.scope import Actor
from api.checkout.lifecycle import CANCEL_SOURCE, lock_by_order, release_unpaid, request_refund
from api.checkout.models import CheckoutStatus
from api.core.db import PhienSession
from api.core.errors import Conflict, Forbidden, NotFound
from api.core.jobs import Job
from api.orders import events
from api.orders.models import FulfilmentStatus, Order, OrderStatus
from api.orders.service import visible_orders
from api.orders.updates import cancel_goods
from api.shipments.models import Shipment
from api.shipments.outbox import BEFORE_PICKUP

SOURCE = CANCEL_SOURCE


async def _visible(session: AsyncSession, actor: Actor, order_id: int) -> None:
    found = await session.execute(
        select(col(Order.id)).where(col(Order.id) == order_id, visible_orders(actor))
    )
    if found.scalar_one_or_none() is None:
        raise NotFound("order")
    if actor.role not in (Role.ADMIN, Role.COOP_ADMIN, Role.SELLER):
        raise Forbidden("only admins and the cooperative's members cancel its orders")


async def _carrier_has_it(session: AsyncSession, order_id: int) -> bool:
    status = (
        await session.execute(
            select(col(Shipment.status)).where(
                col(Shipment.order_id) == order_id, col(Shipment.status) != "cancelled"
            )
        )
    ).scalar_one_or_none()
    return status is not None and status not in BEFORE_PICKUP


async def cancel_direct_order(session: PhienSession, actor: Actor, order_id: int) -> str:
    """Cancel a direct order for the cooperative; refund it if paid. The outcome."""
    await _visible(session, actor, order_id)
    found = await lock_by_order(session, order_id)
    if found is None:
        raise Conflict("only direct orders are cancelled here; cancel others on their platform")
    checkout, order = found
    assert order.id is not None
    if order.status == OrderStatus.CANCELLED.value:
        goods_back = order.fulfilment_status == FulfilmentStatus.CANCELLED.value
        if checkout.paid_at is not None and goods_back:
            request_refund(session, checkout, order, "order cancelled by the cooperative")
        return "already_cancelled"
    if checkout.paid_at is None:
        await release_unpaid(
            session, checkout, order, source=SOURCE, reason="cancelled by the cooperative",
            status=CheckoutStatus.EXPIRED,
        )  # fmt: skip
        if checkout.stripe_session_id is not None:
            session.enqueue_after_commit(
                Job.EXPIRE_CHECKOUT, order.id, job_id=f"expire-checkout:{order.id}"
            )
        return "cancelled"
    if await _carrier_has_it(session, order.id):
        raise Conflict("the carrier already has the parcel: it can no longer be cancelled")
    previous = order.status
    order.status = OrderStatus.CANCELLED.value
    events.record(
        session, order.id, "status_changed", SOURCE,
        **{"from": previous, "to": OrderStatus.CANCELLED.value}, by_user=actor.user_id,
    )  # fmt: skip
    await cancel_goods(session, order, SOURCE)
    if order.fulfilment_status != FulfilmentStatus.CANCELLED.value:
        # Booked: the carrier is asked to drop the parcel, and the refund waits for its yes
        # (`shipments.cancel.record_cancelled`); should its courier have it, no refund is made.
        events.record(session, order.id, "refund_waits_for_carrier", SOURCE)
        return "cancelled_refund_after_carrier"
    request_refund(session, checkout, order, "order cancelled by the cooperative")
    return "cancelled_refund_requested"
