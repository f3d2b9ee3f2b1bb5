"""/api/v1/orders: read orders; `?flag=backordered` is the cooperative's backorder list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.core.deps import MAX_ID, CurrentActor, Id, Paging, SessionDep
from api.core.schemas import NO_NUL, Page
from api.orders import service
from api.orders.models import FulfilmentStatus, OrderFlag, OrderStatus, PaymentStatus
from api.orders.schemas import OrderDetail, OrderRead

router = APIRouter(prefix="/orders", tags=["orders"])


@router.get("", response_model=Page[OrderRead])
async def list_orders(
    session: SessionDep,
    actor: CurrentActor,
    paging: Paging,
    status: OrderStatus | None = None,
    payment_status: PaymentStatus | None = None,
    fulfilment_status: FulfilmentStatus | None = None,
    flag: OrderFlag | None = None,
    cooperative_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    live_session_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    platform: Annotated[str | None, Query(max_length=32, pattern=NO_NUL)] = None,
) -> Page[OrderRead]:
    """Orders in the caller's scope, newest first."""
    filters = {
        "status": status.value if status else None,
        "payment_status": payment_status.value if payment_status else None,
        "fulfilment_status": fulfilment_status.value if fulfilment_status else None,
        "flag": flag.value if flag else None,
        "cooperative_id": cooperative_id,
        "live_session_id": live_session_id,
        "platform": platform,
    }
    items, total = await service.list_orders(
        session, actor, limit=paging.limit, offset=paging.offset, filters=filters
    )
    return Page(items=items, total=total, limit=paging.limit, offset=paging.offset)


@router.get("/{order_id}", response_model=OrderDetail)
async def read_order(order_id: Id, session: SessionDep, actor: CurrentActor) -> OrderDetail:
    """One order with its lines and audit trail."""
    return await service.get_order(session, actor, order_id)
