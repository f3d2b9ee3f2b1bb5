"""/api/v1/channel-connections: shops on the platforms, their SKU mappings and unmapped SKUs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api.channels import mapping, service
from api.channels.models import Platform
from api.channels.schemas import (
    ChannelConnectionCreate,
    ChannelConnectionRead,
    ChannelConnectionUpdate,
    ConnectionStatus,
    SkuMappingCreate,
    SkuMappingRead,
    UnmappedSku,
)
from api.core.deps import MAX_ID, CurrentActor, Id, Paging, SessionDep
from api.core.schemas import Page

router = APIRouter(prefix="/channel-connections", tags=["channel connections"])


@router.get("", response_model=Page[ChannelConnectionRead])
async def list_connections(
    session: SessionDep,
    actor: CurrentActor,
    paging: Paging,
    cooperative_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    platform: Platform | None = None,
    status_: Annotated[ConnectionStatus | None, Query(alias="status")] = None,
) -> Page[ChannelConnectionRead]:
    """Connections in scope; `?status=reauth_required` lists shops that need reconnecting."""
    items, total = await service.list_connections(
        session,
        actor,
        limit=paging.limit,
        offset=paging.offset,
        cooperative_id=cooperative_id,
        platform=platform.value if platform else None,
        status=status_.value if status_ else None,
    )
    return Page(items=items, total=total, limit=paging.limit, offset=paging.offset)


@router.post("", response_model=ChannelConnectionRead, status_code=status.HTTP_201_CREATED)
async def create_connection(
    session: SessionDep, actor: CurrentActor, body: ChannelConnectionCreate
) -> ChannelConnectionRead:
    """Connect a shop; tokens are stored, never returned."""
    connection = await service.create_connection(session, actor, body)
    await session.commit()
    return connection


@router.get("/{connection_id}", response_model=ChannelConnectionRead)
async def read_connection(
    connection_id: Id, session: SessionDep, actor: CurrentActor
) -> ChannelConnectionRead:
    """One connection."""
    return await service.get_connection(session, actor, connection_id)


@router.patch("/{connection_id}", response_model=ChannelConnectionRead)
async def update_connection(
    connection_id: Id, session: SessionDep, actor: CurrentActor, body: ChannelConnectionUpdate
) -> ChannelConnectionRead:
    """Rotate tokens, rename, or set status active/disabled."""
    connection = await service.update_connection(session, actor, connection_id, body)
    await session.commit()
    return connection


@router.get("/{connection_id}/sku-mappings", response_model=Page[SkuMappingRead])
async def list_sku_mappings(
    connection_id: Id, session: SessionDep, actor: CurrentActor, paging: Paging
) -> Page[SkuMappingRead]:
    """Which platform SKUs stand for which of our variants."""
    items, total = await mapping.list_mappings(
        session, actor, connection_id, paging.limit, paging.offset
    )
    return Page(items=items, total=total, limit=paging.limit, offset=paging.offset)


@router.post(
    "/{connection_id}/sku-mappings",
    response_model=SkuMappingRead,
    status_code=status.HTTP_201_CREATED,
)
async def create_sku_mapping(
    connection_id: Id, session: SessionDep, actor: CurrentActor, body: SkuMappingCreate
) -> SkuMappingRead:
    """Map a platform SKU to a variant of the same cooperative (stored orders are not updated)."""
    created = await mapping.create_mapping(session, actor, connection_id, body)
    await session.commit()
    return created


@router.delete("/{connection_id}/sku-mappings/{mapping_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_sku_mapping(
    connection_id: Id, mapping_id: Id, session: SessionDep, actor: CurrentActor
) -> Response:
    """Remove a mapping."""
    await mapping.delete_mapping(session, actor, connection_id, mapping_id)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{connection_id}/unmapped-skus", response_model=Page[UnmappedSku])
async def list_unmapped_skus(
    connection_id: Id, session: SessionDep, actor: CurrentActor, paging: Paging
) -> Page[UnmappedSku]:
    """Platform SKUs seen in orders that match no variant yet, most recently seen first."""
    items, total = await mapping.list_unmapped_skus(
        session, actor, connection_id, paging.limit, paging.offset
    )
    return Page(items=items, total=total, limit=paging.limit, offset=paging.offset)
