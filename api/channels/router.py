"""/api/v1/channel-connections: shops on the platforms, their SKU mappings and unmapped SKUs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from api.channels import authorisation, mapping, service
from api.channels.models import Platform
from api.channels.oauth_state import read_state, use_state
from api.channels.schemas import (
    AuthorisationLink,
    AuthorisationLinkCreate,
    AuthorisingPlatform,
    ChannelConnectionCreate,
    ChannelConnectionRead,
    ChannelConnectionUpdate,
    ConnectedShops,
    ConnectionStatus,
    SkuMappingCreate,
    SkuMappingRead,
    UnmappedSku,
)
from api.core.db import utcnow
from api.core.deps import MAX_ID, CurrentActor, Id, Paging, SessionDep
from api.core.encryption import current_keyring
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
    """Admins only: connect a shop by typing its ids and tokens (stored, never returned)."""
    connection = await service.create_connection(session, actor, body)
    await session.commit()
    return connection


@router.post(
    "/oauth/{platform}/authorization-links",
    response_model=AuthorisationLink,
    status_code=status.HTTP_201_CREATED,
)
async def create_authorisation_link(
    platform: AuthorisingPlatform,
    body: AuthorisationLinkCreate,
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
) -> AuthorisationLink:
    """A link for the shop's owner: they authorise Phiên on the platform, which sends them back."""
    settings = request.app.state.settings
    return await authorisation.authorisation_link(
        session,
        actor,
        settings,
        request.app.state.platform_http,
        platform=platform,
        cooperative_id=body.cooperative_id,
        redirect_url=authorisation.callback_url(settings, str(request.base_url), platform.value),
        now=utcnow(),
    )


@router.get(
    "/oauth/{platform}/callback",
    response_model=ConnectedShops,
    responses={
        400: {
            "description": "The state or code is not valid here (forged, expired or used)",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    },
)
async def authorisation_callback(
    platform: AuthorisingPlatform,
    request: Request,
    session: SessionDep,
    code: Annotated[str, Query(min_length=1, max_length=512)],
    state: Annotated[str, Query(min_length=1, max_length=1024)],
    shop_id: Annotated[str | None, Query(max_length=64)] = None,
) -> ConnectedShops:
    """Where the platform sends the owner back (no bearer token: the signed state is the proof)."""
    now = utcnow()
    checked = read_state(current_keyring(), state, platform.value, now)
    await authorisation.check_authoriser(session, checked)
    await use_state(session, checked, now)
    # Committed before the platform call: a state works once, even if the exchange fails.
    await session.commit()
    grant = await authorisation.exchange_code(
        request.app.state.settings, request.app.state.platform_http, platform, code, shop_id
    )
    items = await authorisation.connect_shops(session, checked, grant)
    await session.commit()
    return ConnectedShops(items=items)


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
    """Rename or set status active/disabled; admins may also type new tokens or a shop cipher."""
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
