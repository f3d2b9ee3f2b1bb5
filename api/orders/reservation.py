"""Reserve an order's stock all or nothing; release it on cancellation."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from api.catalogue.models import MovementKind
from api.catalogue.stock import move_stock
from api.orders.flags import add_flag
from api.orders.models import FulfilmentStatus, Order, OrderFlag, OrderLine


async def reserve_order(session: AsyncSession, order: Order, lines: list[OrderLine]) -> bool:
    """Reserve every mapped line or none; an order that cannot be covered is backordered.

    Lines are taken in variant order so two orders touching the same variants lock them in the
    same order (no deadlock); a savepoint undoes the lines already reserved when one falls short.
    """
    wanted = sorted((line for line in lines if line.variant_id is not None), key=_variant_key)
    if not wanted:
        return False
    short: list[str] = []
    savepoint = await session.begin_nested()
    for line in wanted:
        assert line.variant_id is not None
        levels = await move_stock(
            session,
            line.variant_id,
            MovementKind.RESERVED,
            line.quantity,
            reason=f"order {order.platform_order_id}",
            order_id=order.id,
        )
        if levels is None:
            short.append(line.seller_sku or line.platform_sku_id)
            break
    if short:
        await savepoint.rollback()
        add_flag(order, OrderFlag.BACKORDERED, "not enough stock for " + ", ".join(short))
        order.fulfilment_status = FulfilmentStatus.BACKORDERED.value
        return False
    await savepoint.commit()
    for line in wanted:
        line.reserved_quantity = line.quantity
    order.fulfilment_status = FulfilmentStatus.RESERVED.value
    return True


async def release_order(session: AsyncSession, order: Order, lines: list[OrderLine]) -> int:
    """Give back every reserved unit of the order; return how many units went back."""
    released = 0
    for line in sorted(lines, key=_variant_key):
        if line.variant_id is None or line.reserved_quantity <= 0:
            continue
        levels = await move_stock(
            session,
            line.variant_id,
            MovementKind.RELEASED,
            line.reserved_quantity,
            reason=f"order {order.platform_order_id} cancelled",
            order_id=order.id,
        )
        if levels is not None:
            released += line.reserved_quantity
            line.reserved_quantity = 0
    return released


def _variant_key(line: OrderLine) -> int:
    return line.variant_id or 0
