"""/api/v1/pickup-batches: the logistics desk's batches (fill, pick, pack by scan, hand over)."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import date
from typing import Annotated, TypeVar

from fastapi import APIRouter, Query, status
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from api.batches import service
from api.batches.schemas import (
    BatchCreate,
    BatchDetail,
    BatchEventRead,
    BatchMove,
    BatchSummary,
    ParcelsAdd,
    ScanIn,
    ScanOutcome,
)
from api.batches.status import BatchStatus
from api.core.deps import MAX_ID, CurrentActor, Id, SessionDep
from api.core.paging import CursorPage
from api.documents.sheets import PickLine

router = APIRouter(prefix="/pickup-batches", tags=["pickup batches"])
Outcome = TypeVar("Outcome")

Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[
    str | None, Query(max_length=64, description="`next_cursor` of the previous page")
]
_OTHER_BATCH = {
    "description": "The parcel belongs to another open batch (`batch_id` names it), or the "
    "batch's state refuses this step"
}


async def _commit_unless_other_batch(
    session: AsyncSession, step: Awaitable[Outcome]
) -> Outcome | JSONResponse:
    """Run a step that may find the parcel in another open batch: its outcome, committed, or a
    409 naming that batch (nothing committed)."""
    try:
        outcome = await step
    except service.ParcelInOtherBatch as exc:
        return JSONResponse(
            {"detail": exc.reason, "batch_id": exc.batch_id, "shipment_id": exc.shipment_id},
            status_code=status.HTTP_409_CONFLICT,
        )
    await session.commit()
    return outcome


@router.post("", response_model=BatchDetail, status_code=status.HTTP_201_CREATED)
async def create_batch(body: BatchCreate, session: SessionDep, actor: CurrentActor) -> BatchDetail:
    """A batch for a collection point, a carrier and a window; filled with the booked parcels
    waiting there unless `fill` is false. 409 when the slot has a batch already."""
    batch = await service.create_batch(
        session, actor, cooperative_id=body.cooperative_id, carrier=body.carrier,
        pickup_date=body.pickup_date, window_start=body.window_start,
        window_end=body.window_end, fill=body.fill,
    )  # fmt: skip
    await session.commit()
    return batch


@router.get("", response_model=CursorPage[BatchSummary])
async def list_batches(
    session: SessionDep,
    actor: CurrentActor,
    pickup_date: Annotated[date | None, Query(alias="date")] = None,
    batch_status: Annotated[list[BatchStatus] | None, Query(alias="status")] = None,
    cooperative_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> CursorPage[BatchSummary]:
    """Batches in the caller's scope, newest first; `status` may repeat."""
    return await service.list_batches(
        session, actor, day=pickup_date,
        statuses=[s.value for s in batch_status] if batch_status else None,
        cooperative_id=cooperative_id, cursor=cursor, limit=limit,
    )  # fmt: skip


@router.get("/{batch_id}", response_model=BatchDetail)
async def read_batch(batch_id: Id, session: SessionDep, actor: CurrentActor) -> BatchDetail:
    """One batch with its parcels, packed and left counts."""
    return await service.get_batch(session, actor, batch_id)


@router.post("/{batch_id}/parcels", response_model=BatchDetail, responses={409: _OTHER_BATCH})
async def add_parcels(
    batch_id: Id, body: ParcelsAdd, session: SessionDep, actor: CurrentActor
) -> BatchDetail | JSONResponse:
    """Add booked parcels of the batch's cooperative and carrier (already in it: no change)."""
    return await _commit_unless_other_batch(
        session, service.add_parcels(session, actor, batch_id, body.shipment_ids)
    )


@router.delete("/{batch_id}/parcels/{shipment_id}", response_model=BatchDetail)
async def remove_parcel(
    batch_id: Id, shipment_id: Id, session: SessionDep, actor: CurrentActor
) -> BatchDetail:
    """Take a parcel out of a batch not yet handed over."""
    batch = await service.remove_parcel(session, actor, batch_id, shipment_id)
    await session.commit()
    return batch


@router.post("/{batch_id}/scan", response_model=ScanOutcome, responses={409: _OTHER_BATCH})
async def scan_parcel(
    batch_id: Id, body: ScanIn, session: SessionDep, actor: CurrentActor
) -> ScanOutcome | JSONResponse:
    """Mark the parcel with this waybill or order reference packed: `packed`, or
    `already_packed` on a repeat. 404 for a code we do not know; 409 naming the batch that has
    the parcel."""
    return await _commit_unless_other_batch(
        session, service.scan_parcel(session, actor, batch_id, body.code)
    )


@router.post("/{batch_id}/status", response_model=BatchDetail)
async def move_batch(
    batch_id: Id, body: BatchMove, session: SessionDep, actor: CurrentActor
) -> BatchDetail:
    """Move the batch (ready and handed_over need every parcel packed; 409 says what is left)."""
    batch = await service.move_batch(session, actor, batch_id, body.to)
    await session.commit()
    return batch


@router.get("/{batch_id}/pick-list", response_model=list[PickLine])
async def pick_list(batch_id: Id, session: SessionDep, actor: CurrentActor) -> list[PickLine]:
    """Quantities per variant and their weight, in walking order."""
    return await service.pick_list(session, actor, batch_id)


@router.get("/{batch_id}/events", response_model=CursorPage[BatchEventRead])
async def batch_events(
    batch_id: Id,
    session: SessionDep,
    actor: CurrentActor,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> CursorPage[BatchEventRead]:
    """The batch's trail, newest first: who did what, and when."""
    return await service.batch_events(session, actor, batch_id, cursor=cursor, limit=limit)
