"""/api/v1/orders: read orders; `?flag=backordered` is the cooperative's backorder list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.checkout.cancel import cancel_direct_order
from api.core.deps import MAX_ID, CurrentActor, CursorPaging, Id, SessionDep
from api.core.paging import CursorPage
from api.core.schemas import NO_NUL
from api.orders import service
from api.orders.models import FulfilmentStatus, OrderFlag, OrderStatus, PaymentStatus
from api.orders.schemas import AnyOrder, AnyOrderDetail

router = APIRouter(prefix="/orders", tags=["orders"])


@router.get("", response_model=CursorPage[AnyOrder])
async def list_orders(
    session: SessionDep,
    actor: CurrentActor,
    paging: CursorPaging,
    status: OrderStatus | None = None,
    payment_status: PaymentStatus | None = None,
    fulfilment_status: FulfilmentStatus | None = None,
    flag: OrderFlag | None = None,
    cooperative_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    live_session_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    platform: Annotated[str | None, Query(max_length=32, pattern=NO_NUL)] = None,
    platform_order_id: Annotated[
        str | None, Query(min_length=1, max_length=64, pattern=NO_NUL)
    ] = None,
    buyer_phone: Annotated[
        str | None,
        Query(
            min_length=9,
            max_length=20,
            description="Exact buyer phone, any form (+84…, 0…); not for programme managers",
        ),
    ] = None,
) -> CursorPage[AnyOrder]:
    """Orders in the caller's scope, newest first (programme managers: without buyers)."""
    filters = {
        "status": status.value if status else None,
        "payment_status": payment_status.value if payment_status else None,
        "fulfilment_status": fulfilment_status.value if fulfilment_status else None,
        "flag": flag.value if flag else None,
        "cooperative_id": cooperative_id,
        "live_session_id": live_session_id,
        "platform": platform,
        "platform_order_id": platform_order_id,
        "buyer_phone": buyer_phone,
    }
    return await service.list_orders(session, actor, paging=paging, filters=filters)


@router.get("/{order_id}", response_model=AnyOrderDetail)
async def read_order(order_id: Id, session: SessionDep, actor: CurrentActor) -> AnyOrderDetail:
    """One order with its lines and audit trail."""
    return await service.get_order(session, actor, order_id)


@router.post(
    "/{order_id}/cancel",
    response_model=AnyOrderDetail,
    responses={409: {"description": "not a direct order, or the carrier already has the parcel"}},
)
async def cancel_order(order_id: Id, session: SessionDep, actor: CurrentActor) -> AnyOrderDetail:
    """Cancel a direct order: its stock comes back; a paid one is refunded through Stripe, once
    however often this is asked. Platform orders are cancelled on their platform."""
    await cancel_direct_order(session, actor, order_id)
    await session.commit()  # sends the refund (or session expiry) job
    return await service.get_order(session, actor, order_id)
