"""/api/v1/cooperatives."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from api.cooperatives import service
from api.cooperatives.schemas import CooperativeCreate, CooperativeRead, CooperativeUpdate
from api.core.deps import CurrentActor, Id, Paging, SessionDep
from api.core.schemas import Page

router = APIRouter(prefix="/cooperatives", tags=["cooperatives"])


@router.get("", response_model=Page[CooperativeRead])
async def list_cooperatives(
    session: SessionDep,
    actor: CurrentActor,
    paging: Paging,
    province_code: Annotated[int | None, Query(ge=1, le=99)] = None,
) -> Page[CooperativeRead]:
    """Cooperatives in the caller's scope."""
    coops, total = await service.list_cooperatives(
        session, actor, paging.limit, paging.offset, province_code
    )
    return Page(
        items=[CooperativeRead.model_validate(c) for c in coops],
        total=total,
        limit=paging.limit,
        offset=paging.offset,
    )


@router.post("", response_model=CooperativeRead, status_code=status.HTTP_201_CREATED)
async def create_cooperative(
    session: SessionDep, actor: CurrentActor, body: CooperativeCreate
) -> CooperativeRead:
    """Create a cooperative (admins)."""
    coop = await service.create_cooperative(session, actor, body)
    await session.commit()
    return CooperativeRead.model_validate(coop)


@router.get("/{cooperative_id}", response_model=CooperativeRead)
async def read_cooperative(
    cooperative_id: Id, session: SessionDep, actor: CurrentActor
) -> CooperativeRead:
    """One cooperative."""
    return CooperativeRead.model_validate(
        await service.get_cooperative(session, actor, cooperative_id)
    )


@router.patch("/{cooperative_id}", response_model=CooperativeRead)
async def update_cooperative(
    cooperative_id: Id, session: SessionDep, actor: CurrentActor, body: CooperativeUpdate
) -> CooperativeRead:
    """Change a cooperative's name, phone or collection point."""
    coop = await service.update_cooperative(session, actor, cooperative_id, body)
    await session.commit()
    return CooperativeRead.model_validate(coop)
