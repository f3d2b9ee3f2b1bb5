"""/api/v1/live-sessions: schedule, run and watch live sessions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api.channels.models import Platform
from api.core.deps import MAX_ID, CurrentActor, Id, Paging, SessionDep
from api.core.schemas import Page
from api.live_sessions import service
from api.live_sessions.models import LiveStatus
from api.live_sessions.schemas import (
    LiveSessionCreate,
    LiveSessionRead,
    LiveSessionUpdate,
    LiveStats,
    OfferCreate,
    OfferRead,
    OfferUpdate,
    PinRequest,
)
from api.live_sessions.stats import live_stats

router = APIRouter(prefix="/live-sessions", tags=["live-sessions"])


@router.get("", response_model=Page[LiveSessionRead])
async def list_live_sessions(
    session: SessionDep,
    actor: CurrentActor,
    paging: Paging,
    cooperative_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    status_: Annotated[LiveStatus | None, Query(alias="status")] = None,
    platform: Platform | None = None,
) -> Page[LiveSessionRead]:
    """Sessions in the caller's scope, latest scheduled first."""
    rows, total = await service.list_live_sessions(
        session,
        actor,
        limit=paging.limit,
        offset=paging.offset,
        cooperative_id=cooperative_id,
        status=status_,
        platform=platform.value if platform else None,
    )
    items = [LiveSessionRead.model_validate(r) for r in rows]
    return Page(items=items, total=total, limit=paging.limit, offset=paging.offset)


@router.post("", response_model=LiveSessionRead, status_code=status.HTTP_201_CREATED)
async def create_live_session(
    session: SessionDep, actor: CurrentActor, body: LiveSessionCreate
) -> LiveSessionRead:
    """Schedule a session on one of the cooperative's shops."""
    live = await service.create_live_session(session, actor, body)
    await session.commit()
    return LiveSessionRead.model_validate(live)


@router.get("/{live_id}", response_model=LiveSessionRead)
async def read_live_session(
    live_id: Id, session: SessionDep, actor: CurrentActor
) -> LiveSessionRead:
    """One session."""
    return LiveSessionRead.model_validate(await service.get_live_session(session, actor, live_id))


@router.patch("/{live_id}", response_model=LiveSessionRead)
async def update_live_session(
    live_id: Id, session: SessionDep, actor: CurrentActor, body: LiveSessionUpdate
) -> LiveSessionRead:
    """Change title or scheduled start while still scheduled."""
    live = await service.update_live_session(session, actor, live_id, body)
    await session.commit()
    return LiveSessionRead.model_validate(live)


async def _move(
    session: SessionDep, actor: CurrentActor, live_id: int, target: LiveStatus
) -> LiveSessionRead:
    live = await service.change_status(session, actor, live_id, target)
    await session.commit()
    return LiveSessionRead.model_validate(live)


@router.post("/{live_id}/start", response_model=LiveSessionRead)
async def start_live_session(
    live_id: Id, session: SessionDep, actor: CurrentActor
) -> LiveSessionRead:
    """Go live (409 if another session of the same shop is live)."""
    return await _move(session, actor, live_id, LiveStatus.LIVE)


@router.post("/{live_id}/end", response_model=LiveSessionRead)
async def end_live_session(
    live_id: Id, session: SessionDep, actor: CurrentActor
) -> LiveSessionRead:
    """End a live session."""
    return await _move(session, actor, live_id, LiveStatus.ENDED)


@router.post("/{live_id}/cancel", response_model=LiveSessionRead)
async def cancel_live_session(
    live_id: Id, session: SessionDep, actor: CurrentActor
) -> LiveSessionRead:
    """Cancel a session that has not started."""
    return await _move(session, actor, live_id, LiveStatus.CANCELLED)


@router.get("/{live_id}/offers", response_model=list[OfferRead])
async def list_offers(live_id: Id, session: SessionDep, actor: CurrentActor) -> list[OfferRead]:
    """The session's offers."""
    return await service.list_offers(session, actor, live_id)


@router.post("/{live_id}/offers", response_model=OfferRead, status_code=status.HTTP_201_CREATED)
async def add_offer(
    live_id: Id, session: SessionDep, actor: CurrentActor, body: OfferCreate
) -> OfferRead:
    """Offer a variant at a live price (while scheduled or live)."""
    offer = await service.add_offer(session, actor, live_id, body)
    await session.commit()
    return offer


@router.patch("/{live_id}/offers/{offer_id}", response_model=OfferRead)
async def update_offer(
    live_id: Id, offer_id: Id, session: SessionDep, actor: CurrentActor, body: OfferUpdate
) -> OfferRead:
    """Change an offer's price, cap or per-buyer limit."""
    offer = await service.update_offer(session, actor, live_id, offer_id, body)
    await session.commit()
    return offer


@router.delete("/{live_id}/offers/{offer_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_offer(
    live_id: Id, offer_id: Id, session: SessionDep, actor: CurrentActor
) -> Response:
    """Withdraw an offer nobody has bought yet."""
    await service.delete_offer(session, actor, live_id, offer_id)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{live_id}/pin", response_model=LiveSessionRead)
async def pin_offer(
    live_id: Id, session: SessionDep, actor: CurrentActor, body: PinRequest
) -> LiveSessionRead:
    """Pin one offer while live (replacing any other); `{"offer_id": null}` unpins."""
    live = await service.pin_offer(session, actor, live_id, body.offer_id)
    await session.commit()
    return LiveSessionRead.model_validate(live)


@router.get("/{live_id}/stats", response_model=LiveStats)
async def read_stats(live_id: Id, session: SessionDep, actor: CurrentActor) -> LiveStats:
    """Results so far: orders, units, kg, GMV, cancellations, flags, per offer."""
    return await live_stats(session, actor, live_id)
