"""Reading orders, scoped to the actor (writes come from the ingestion and the carriers)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.accounts.models import Role
from api.accounts.scope import Actor
from api.cooperatives.models import Cooperative
from api.cooperatives.service import visible_cooperatives
from api.core.errors import Forbidden, NotFound, Unprocessable
from api.core.paging import CursorPage, CursorParams, keyset_page
from api.orders.models import Order, OrderEvent, OrderLine
from api.orders.phones import phone_digest
from api.orders.schemas import (
    AnyOrder,
    AnyOrderDetail,
    OrderDetail,
    OrderEventRead,
    OrderLineRead,
    OrderOverview,
    OrderOverviewDetail,
    OrderRead,
)


def visible_orders(actor: Actor) -> Any:
    """Orders of cooperatives in scope; orders of unknown shops only for admins."""
    if actor.role is Role.ADMIN:
        return col(Order.id).is_not(None)
    return col(Order.cooperative_id).in_(
        select(col(Cooperative.id)).where(visible_cooperatives(actor))
    )


def order_read(order: Order, actor: Actor) -> AnyOrder:
    """An order as this actor may see it: programme managers get no buyer name, phone or street."""
    if actor.role is Role.PROGRAM_MANAGER:
        return OrderOverview.model_validate(order)
    return OrderRead.model_validate(order)


def _filtered(actor: Actor, filters: dict[str, Any]) -> Any:
    query = select(Order).where(visible_orders(actor))
    for field in (
        "status",
        "payment_status",
        "fulfilment_status",
        "cooperative_id",
        "live_session_id",
        "platform",
        "platform_order_id",
    ):
        value = filters.get(field)
        if value is not None:
            query = query.where(getattr(Order, field) == value)
    if filters.get("flag"):
        query = query.where(col(Order.flags).contains([filters["flag"]]))
    if filters.get("buyer_phone") is not None:
        if actor.role is Role.PROGRAM_MANAGER:
            raise Forbidden("programme managers do not search by buyer")
        digest = phone_digest(filters["buyer_phone"])
        if digest is None:
            raise Unprocessable("not a Vietnamese phone number", field="buyer_phone")
        query = query.where(col(Order.buyer_phone_hash) == digest)
    return query


async def list_orders(
    session: AsyncSession, actor: Actor, *, paging: CursorParams, filters: dict[str, Any]
) -> CursorPage[AnyOrder]:
    """Orders in scope, newest first, filtered by status axes, flag, coop, session, platform,
    platform order id or buyer phone."""
    rows, total, capped, cursor = await keyset_page(
        session, _filtered(actor, filters), col(Order.id), paging
    )
    return CursorPage[AnyOrder](
        items=[order_read(o, actor) for o in rows],
        total=total,
        limit=paging.limit,
        offset=paging.offset,
        next_cursor=cursor,
        total_capped=capped,
    )


async def get_order(session: AsyncSession, actor: Actor, order_id: int) -> AnyOrderDetail:
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
    shape = OrderOverviewDetail if actor.role is Role.PROGRAM_MANAGER else OrderDetail
    return shape.model_validate(
        {
            **order_read(order, actor).model_dump(),
            "lines": [OrderLineRead.model_validate(x) for x in lines.scalars()],
            "events": [OrderEventRead.model_validate(x) for x in trail.scalars()],
        }
    )
