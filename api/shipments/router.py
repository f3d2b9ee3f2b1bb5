"""/api/v1/shipments: logistics' view of carrier hand-offs, receiver fixes, retries, cancels."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api.core.deps import MAX_ID, CurrentActor, CursorPaging, Id, SessionDep
from api.core.paging import CursorPage
from api.core.schemas import NO_NUL
from api.shipments import service
from api.shipments.models import CARRIERS, SHIPMENT_STATUSES
from api.shipments.schemas import (
    AnyShipment,
    AnyShipmentDetail,
    ReceiverUpdate,
    ShipmentRead,
    ShipmentReroute,
)

router = APIRouter(prefix="/shipments", tags=["shipments"])

StatusFilter = Annotated[str | None, Query(pattern="^(" + "|".join(SHIPMENT_STATUSES) + ")$")]
CarrierFilter = Annotated[str | None, Query(pattern="^(" + "|".join(CARRIERS) + ")$")]


@router.get("", response_model=CursorPage[AnyShipment])
async def list_shipments(
    session: SessionDep,
    actor: CurrentActor,
    paging: CursorPaging,
    status: StatusFilter = None,
    carrier: CarrierFilter = None,
    cooperative_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    needs_attention: bool | None = None,
    order_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    waybill: Annotated[str | None, Query(min_length=1, max_length=64, pattern=NO_NUL)] = None,
) -> CursorPage[AnyShipment]:
    """Shipments in the caller's scope, newest first; `needs_attention=true`: carrier refusals."""
    filters = {
        "status": status,
        "carrier": carrier,
        "cooperative_id": cooperative_id,
        "needs_attention": needs_attention,
        "order_id": order_id,
        "waybill": waybill,
    }
    return await service.list_shipments(session, actor, paging=paging, filters=filters)


@router.get("/{shipment_id}", response_model=AnyShipmentDetail)
async def read_shipment(
    shipment_id: Id, session: SessionDep, actor: CurrentActor
) -> AnyShipmentDetail:
    """One shipment with its tracking events and its stored label link (fetched by a job)."""
    detail = await service.shipment_detail(session, actor, shipment_id)
    await session.commit()  # sends the label fetch it may have asked for
    return detail


@router.patch("/{shipment_id}", response_model=ShipmentRead)
async def update_receiver(
    shipment_id: Id, session: SessionDep, actor: CurrentActor, body: ReceiverUpdate
) -> ShipmentRead:
    """Correct the receiver's address, phone or name before the carrier booked the parcel."""
    shipment = await service.update_receiver(session, actor, shipment_id, body)
    await session.commit()
    return ShipmentRead.model_validate(shipment)


@router.post(
    "/{shipment_id}/retry", response_model=ShipmentRead, status_code=status.HTTP_202_ACCEPTED
)
async def retry_booking(shipment_id: Id, session: SessionDep, actor: CurrentActor) -> ShipmentRead:
    """Clear the carrier's refusal and book again (409 once booked)."""
    shipment = await service.retry_booking(session, actor, shipment_id)
    await session.commit()
    return ShipmentRead.model_validate(shipment)


@router.post(
    "/{shipment_id}/reroute", response_model=AnyShipment, status_code=status.HTTP_202_ACCEPTED
)
async def reroute_shipment(
    shipment_id: Id, session: SessionDep, actor: CurrentActor, body: ShipmentReroute
) -> AnyShipment:
    """Book a shipment not yet booked with the other carrier (409 once booked or in doubt)."""
    shipment = await service.reroute(session, actor, shipment_id, body.carrier)
    await session.commit()
    return service.shipment_read(shipment, actor)


@router.post("/{shipment_id}/cancel", response_model=ShipmentRead)
async def cancel_shipment(
    shipment_id: Id, response: Response, session: SessionDep, actor: CurrentActor
) -> ShipmentRead:
    """Cancel before pickup: 200 when done here, 202 when the carrier is asked; 409 after pickup."""
    done = await service.request_cancel(session, actor, shipment_id)
    await session.commit()
    if not done:
        response.status_code = status.HTTP_202_ACCEPTED
    shipment = await service.get_shipment(session, actor, shipment_id)
    return ShipmentRead.model_validate(shipment)
