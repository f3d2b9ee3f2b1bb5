"""A direct sale's receipt for the buyer's thanks page: reference, items, amount and status only."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.orders.models import Order, OrderLine, OrderStatus, PaymentStatus

DIRECT_PLATFORM = "direct"


@dataclass(frozen=True)
class ReceiptLine:
    """One item as the buyer chose it."""

    name: str
    quantity: int
    unit_price_vnd: int


@dataclass(frozen=True)
class Receipt:
    """What the thanks page shows: never the buyer's name, phone or address."""

    reference: str
    lines: list[ReceiptLine]
    total_vnd: int
    paid: bool
    cancelled: bool
    refunded: bool


async def receipt(session: AsyncSession, cooperative_id: int, reference: str) -> Receipt | None:
    """The direct order `reference` of this cooperative, or None."""
    order = (
        await session.execute(
            select(Order).where(
                col(Order.cooperative_id) == cooperative_id,
                col(Order.platform) == DIRECT_PLATFORM,
                col(Order.platform_order_id) == reference,
            )
        )
    ).scalar_one_or_none()
    if order is None or order.id is None:
        return None
    rows = (
        await session.execute(
            select(OrderLine).where(col(OrderLine.order_id) == order.id).order_by(col(OrderLine.id))
        )
    ).scalars()
    lines = [ReceiptLine(r.name, r.quantity, r.unit_price_vnd) for r in rows]
    return Receipt(
        reference=reference,
        lines=lines,
        total_vnd=order.total_vnd,
        paid=order.payment_status == PaymentStatus.PAID.value,
        cancelled=order.status == OrderStatus.CANCELLED.value,
        refunded=order.payment_status == PaymentStatus.REFUNDED.value,
    )
