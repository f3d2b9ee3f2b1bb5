"""/api/v1/shipments: logistics' view of carrier hand-offs, receiver fixes, retries, cancels."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api.core.deps import MAX_ID, CurrentActor, Id, Paging, SessionDep
from api.core.schemas import Page
from api.shipments import service
from api.shipments.models import CARRIERS, SHIPMENT_STATUSES
from api.shipments.schemas import (
    ReceiverUpdate,
    ShipmentDetail,
    ShipmentRead,
    ShipmentReroute,
)

router = APIRouter(prefix="/shipments", tags=["shipments"])

StatusFilter = Annotated[str | None, Query(pattern="^(" + "|".join(SHIPMENT_STATUSES) + ")$")]
CarrierFilter = Annotated[str | None, Query(pattern="^(" + "|".join(CARRIERS) + ")$")]


@router.get("", response_model=Page[ShipmentRead])
async def list_shipments(
    session: SessionDep,
    actor: CurrentActor,
    paging: Paging,
    status: StatusFilter = None,
    carrier: CarrierFilter = None,
    cooperative_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    needs_attention: bool | None = None,
) -> Page[ShipmentRead]:
    """Shipments in the caller's scope, newest first; `needs_attention=true`: carrier refusals."""
    filters = {
        "status": status,
        "carrier": carrier,
        "cooperative_id": cooperative_id,
        "needs_attention": needs_attention,
    }
    items, total = await service.list_shipments(
        session, actor, limit=paging.limit, offset=paging.offset, filters=filters
    )
    return Page(items=items, total=total, limit=paging.limit, offset=paging.offset)


@router.get("/{shipment_id}", response_model=ShipmentDetail)
async def read_shipment(
    shipment_id: Id, session: SessionDep, actor: CurrentActor
) -> ShipmentDetail:
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
    return service.shipment_read(shipment, actor)


@router.post(
    "/{shipment_id}/retry", response_model=ShipmentRead, status_code=status.HTTP_202_ACCEPTED
)
async def retry_booking(shipment_id: Id, session: SessionDep, actor: CurrentActor) -> ShipmentRead:
    """Clear the carrier's refusal and book again (409 once booked)."""
    shipment = await service.retry_booking(session, actor, shipment_id)
    await session.commit()
    return service.shipment_read(shipment, actor)


@router.post(
    "/{shipment_id}/reroute", response_model=ShipmentRead, status_code=status.HTTP_202_ACCEPTED
)
async def reroute_shipment(
    shipment_id: Id, session: SessionDep, actor: CurrentActor, body: ShipmentReroute
) -> ShipmentRead:
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
    return service.shipment_read(shipment, actor)
