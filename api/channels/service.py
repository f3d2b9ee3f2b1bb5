"""Channel connections: create, read, rotate tokens and switch on/off, scoped to the actor."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.accounts.models import Role
from api.accounts.scope import Actor
from api.channels.models import ChannelConnection
from api.channels.schemas import (
    ChannelConnectionCreate,
    ChannelConnectionRead,
    ChannelConnectionUpdate,
    ConnectionStatus,
    TokenFields,
)
from api.cooperatives.models import Cooperative
from api.cooperatives.service import get_cooperative, visible_cooperatives
from api.core.errors import Conflict, Forbidden, NotFound, Unprocessable

# Never copied into a response: `connection_read` drops them and reports booleans instead.
SECRET_COLUMNS = frozenset({"access_token", "refresh_token"})
# What only the platform's authorisation sets for people who are not admins.
TYPED_BY_ADMINS = frozenset(
    {"access_token", "refresh_token", "access_expires_at", "refresh_expires_at", "shop_cipher"}
)
ADMINS_TYPE_SHOPS = (
    "shops are connected through the platform's own authorisation "
    "(POST /api/v1/channel-connections/oauth/{platform}/authorization-links); "
    "only admins type shop ids and tokens"
)


def connection_read(connection: ChannelConnection) -> ChannelConnectionRead:
    """A connection as the API shows it, tokens replaced by has_* booleans."""
    data = connection.model_dump(exclude=set(SECRET_COLUMNS))
    data["has_access_token"] = connection.access_token is not None
    data["has_refresh_token"] = connection.refresh_token is not None
    return ChannelConnectionRead.model_validate(data)


def visible_connections(actor: Actor) -> Any:
    """A WHERE clause limiting connections to cooperatives in the actor's scope."""
    return col(ChannelConnection.cooperative_id).in_(
        select(col(Cooperative.id)).where(visible_cooperatives(actor))
    )


async def require_manager(session: AsyncSession, actor: Actor, cooperative_id: int) -> None:
    """404 outside the actor's scope; 403 unless admin or this cooperative's coop admin."""
    await get_cooperative(session, actor, cooperative_id)
    # Same rule as the catalogue: admins anywhere, coop admins in their own cooperative.
    if not actor.can_manage_catalogue(cooperative_id):
        raise Forbidden("only admins and this cooperative's coop admins manage its channels")


async def get_connection_row(
    session: AsyncSession, actor: Actor, connection_id: int, *, for_update: bool = False
) -> ChannelConnection:
    """A connection the actor may see, else NotFound."""
    query = select(ChannelConnection).where(
        col(ChannelConnection.id) == connection_id, visible_connections(actor)
    )
    if for_update:
        query = query.with_for_update(of=ChannelConnection)
    connection = (await session.execute(query)).scalar_one_or_none()
    if connection is None:
        raise NotFound("channel connection")
    return connection


def next_status(current: str, requested: str | None, tokens_rotated: bool) -> str:
    """The connection status axis: people switch active/disabled; new tokens clear reauth."""
    if requested == ConnectionStatus.DISABLED:
        return ConnectionStatus.DISABLED.value
    if requested == ConnectionStatus.ACTIVE:
        if current == ConnectionStatus.REAUTH_REQUIRED and not tokens_rotated:
            raise Unprocessable(
                "the platform refused this shop's tokens: authorise the shop again to resume it",
                field="status",
            )
        return ConnectionStatus.ACTIVE.value
    if current == ConnectionStatus.REAUTH_REQUIRED and tokens_rotated:
        return ConnectionStatus.ACTIVE.value
    return current


def require_reauth(connection: ChannelConnection) -> None:
    """The platform refused the tokens: stop using them until a person reconnects the shop."""
    connection.status = ConnectionStatus.REAUTH_REQUIRED.value


def token_changes(data: TokenFields) -> dict[str, Any]:
    """Column values for the token fields the request sent (unsent fields stay as they are)."""
    sent = data.model_fields_set
    changes: dict[str, Any] = {}
    for kind in ("access", "refresh"):
        token, expiry = f"{kind}_token", f"{kind}_expires_at"
        if token in sent:
            secret = getattr(data, token)
            changes[token] = secret.get_secret_value() if secret is not None else None
            # A new token without its expiry: the old token's expiry no longer means anything.
            changes[expiry] = None
        if expiry in sent:
            changes[expiry] = getattr(data, expiry)
    return changes


async def create_connection(
    session: AsyncSession, actor: Actor, data: ChannelConnectionCreate
) -> ChannelConnectionRead:
    """Admins connect a shop by its typed ids; the same (platform, shop_id) twice is a Conflict."""
    await require_manager(session, actor, data.cooperative_id)
    if actor.role is not Role.ADMIN:
        raise Forbidden(ADMINS_TYPE_SHOPS)
    connection = ChannelConnection(
        cooperative_id=data.cooperative_id,
        platform=data.platform.value,
        shop_id=data.shop_id,
        shop_name=data.shop_name,
        shop_cipher=data.shop_cipher,
        **token_changes(data),
    )
    session.add(connection)
    try:
        await session.flush()
    except IntegrityError:
        # UNIQUE(platform, shop_id) decides, so two concurrent requests cannot both succeed.
        raise Conflict("this shop is already connected") from None
    return connection_read(connection)


async def get_connection(
    session: AsyncSession, actor: Actor, connection_id: int
) -> ChannelConnectionRead:
    """One connection the actor may see."""
    return connection_read(await get_connection_row(session, actor, connection_id))


async def list_connections(
    session: AsyncSession,
    actor: Actor,
    *,
    limit: int,
    offset: int,
    cooperative_id: int | None = None,
    platform: str | None = None,
    status: str | None = None,
) -> tuple[list[ChannelConnectionRead], int]:
    """Connections in the actor's scope, oldest first."""
    query = select(ChannelConnection).where(visible_connections(actor))
    if cooperative_id is not None:
        query = query.where(col(ChannelConnection.cooperative_id) == cooperative_id)
    if platform is not None:
        query = query.where(col(ChannelConnection.platform) == platform)
    if status is not None:
        query = query.where(col(ChannelConnection.status) == status)
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = await session.execute(
        query.order_by(col(ChannelConnection.id)).limit(limit).offset(offset)
    )
    return [connection_read(c) for c in rows.scalars()], int(total)


async def update_connection(
    session: AsyncSession, actor: Actor, connection_id: int, data: ChannelConnectionUpdate
) -> ChannelConnectionRead:
    """Rename, rotate tokens, or switch a connection on or off."""
    # Row lock: the token job may be writing a refreshed pair; ours lands after it, not between.
    connection = await get_connection_row(session, actor, connection_id, for_update=True)
    await require_manager(session, actor, connection.cooperative_id)
    sent = data.model_fields_set
    if actor.role is not Role.ADMIN and sent & TYPED_BY_ADMINS:
        raise Forbidden(ADMINS_TYPE_SHOPS)
    if "shop_name" in sent and data.shop_name is not None:
        connection.shop_name = data.shop_name
    if "shop_cipher" in sent:
        connection.shop_cipher = data.shop_cipher
    tokens = token_changes(data)
    for key, value in tokens.items():
        setattr(connection, key, value)
    rotated = any(tokens.get(k) is not None for k in SECRET_COLUMNS)
    connection.status = next_status(connection.status, data.status, rotated)
    await session.flush()
    return connection_read(connection)
