"""/api/v1/inbound-events: admins list inbox rows (parked ones with their reason), replay them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.core.deps import MAX_ID, CurrentActor, Id, SessionDep
from api.core.errors import NotFound
from api.core.limits import EVENT_KEY_MAX
from api.webhooks import parked
from api.webhooks.models import InboundEvent
from api.webhooks.parked import EventState
from api.webhooks.schemas import InboundEventPage, InboundEventRead, ReplayRequest, ReplayResult
from api.webhooks.sources import SOURCES

router = APIRouter(prefix="/inbound-events", tags=["inbound events"])


def _read(event: InboundEvent) -> InboundEventRead:
    state = parked.state_of(event.handled_at, event.parked_at)
    return InboundEventRead.model_validate({**event.model_dump(), "state": state})


@router.get("", response_model=InboundEventPage)
async def list_inbound_events(
    session: SessionDep,
    actor: CurrentActor,
    source: Annotated[str | None, Query(pattern="^(" + "|".join(SOURCES) + ")$")] = None,
    state: EventState | None = None,
    key: Annotated[str | None, Query(min_length=1, max_length=EVENT_KEY_MAX)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> InboundEventPage:
    """Rows newest first; `?state=failed` lists parked rows; `?before=` takes the next page."""
    rows, next_before = await parked.list_events(
        session, actor, limit=limit, before=before, source=source, state=state, key=key
    )
    return InboundEventPage(items=[_read(r) for r in rows], limit=limit, next_before=next_before)


@router.post("/replay", response_model=ReplayResult)
async def replay_inbound_events(
    session: SessionDep, actor: CurrentActor, body: ReplayRequest
) -> ReplayResult:
    """Handle these rows again (parked or not); unknown ids are left out of the answer."""
    replayed = await parked.replay(session, actor, sorted(set(body.ids)))
    await session.commit()
    return ReplayResult(replayed=replayed)


@router.post("/{event_id}/replay", response_model=ReplayResult)
async def replay_inbound_event(
    event_id: Id, session: SessionDep, actor: CurrentActor
) -> ReplayResult:
    """Handle one row again."""
    replayed = await parked.replay(session, actor, [event_id])
    if not replayed:
        raise NotFound("inbound event")
    await session.commit()
    return ReplayResult(replayed=replayed)
