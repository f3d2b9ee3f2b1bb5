"""Reading orders, scoped to the actor (writes come from the ingestion and the carriers)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.accounts.models import Role
from api.accounts.scope import Actor
from api.cooperatives.models import Cooperative
from api.cooperatives.service import visible_cooperatives
from api.core.errors import NotFound
from api.core.logging import mask_phone
from api.orders.models import Order, OrderEvent, OrderLine
from api.orders.schemas import OrderDetail, OrderEventRead, OrderLineRead, OrderRead


def visible_orders(actor: Actor) -> Any:
    """Orders of cooperatives in scope; orders of unknown shops only for admins."""
    if actor.role is Role.ADMIN:
        return col(Order.id).is_not(None)
    return col(Order.cooperative_id).in_(
        select(col(Cooperative.id)).where(visible_cooperatives(actor))
    )


# Who the buyer is and where they live: programme managers watch tonnage, not people. The
# province and commune stay (reports are by place); the phone keeps a masked shape.
_PERSONAL = ("buyer_name", "ship_street", "ship_full_address")


def order_read(order: Order, actor: Actor) -> OrderRead:
    """An order as this actor may see it (programme managers see no buyer personal data)."""
    data = order.model_dump()
    if actor.role is Role.PROGRAM_MANAGER:
        data["buyer_phone"] = mask_phone(order.buyer_phone)
        data.update(dict.fromkeys(_PERSONAL, ""))
    return OrderRead.model_validate(data)


async def list_orders(
    session: AsyncSession,
    actor: Actor,
    *,
    limit: int,
    offset: int,
    filters: dict[str, Any],
) -> tuple[list[OrderRead], int]:
    """Orders in scope, newest first, filtered by status axes, flag, coop, session, platform."""
    query = select(Order).where(visible_orders(actor))
    for field in (
        "status",
        "payment_status",
        "fulfilment_status",
        "cooperative_id",
        "live_session_id",
        "platform",
    ):
        value = filters.get(field)
        if value is not None:
            query = query.where(getattr(Order, field) == value)
    if filters.get("flag"):
        query = query.where(col(Order.flags).contains([filters["flag"]]))
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = await session.execute(query.order_by(col(Order.id).desc()).limit(limit).offset(offset))
    return [order_read(o, actor) for o in rows.scalars()], int(total)


async def get_order(session: AsyncSession, actor: Actor, order_id: int) -> OrderDetail:
    """One order with its lines and trail, or NotFound."""
    order = (
        await session.execute(select(Order).where(col(Order.id) == order_id, visible_orders(actor)))
    ).scalar_one_or_none()
    if order is None:
        raise NotFound("order")
    lines = await session.execute(
        select(OrderLine).where(col(OrderLine.order_id) == order_id).order_by(col(OrderLine.id))
    )
    trail = await session.execute(
        select(OrderEvent).where(col(OrderEvent.order_id) == order_id).order_by(col(OrderEvent.id))
    )
    return OrderDetail.model_validate(
        {
            **order_read(order, actor).model_dump(),
            "lines": [OrderLineRead.model_validate(x) for x in lines.scalars()],
            "events": [OrderEventRead.model_validate(x) for x in trail.scalars()],
        }
    )
