"""Connecting a shop through the platform's own authorisation, not by typing its id.

A coop admin (or an admin) asks for an authorisation link; the shop's owner consents on the
platform, which sends them back to our callback with a code. The code is exchanged for tokens
by the production client, and the platform (not the person) says which shop they are for. The
code exchange runs while the owner waits on the callback: a job would leave them with nothing to
look at, and the code dies in minutes. No transaction is open during the platform calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.accounts.scope import Actor
from api.accounts.service import active_actor
from api.channels.models import ChannelConnection
from api.channels.oauth_state import AuthorisationState, issue_state
from api.channels.schemas import (
    AuthorisationLink,
    AuthorisingPlatform,
    ChannelConnectionRead,
    ConnectionStatus,
)
from api.channels.service import connection_read, require_manager
from api.core.clients import shopee_client, tiktok_shop_client
from api.core.config import Settings
from api.core.encryption import current_keyring
from api.core.errors import BadRequest, Conflict, Forbidden, Unavailable
from integrations.platforms import AuthorizedShop, PlatformError, TokenPair

CALLBACK_PATH = "/api/v1/channel-connections/oauth/{platform}/callback"
# Said to whoever tries to connect a shop another cooperative holds: which one is not named.
SHOP_UNAVAILABLE = (
    "this shop is already connected to another account on Phiên, so it cannot be connected "
    "here; ask the Phiên administrators for help"
)


@dataclass(frozen=True)
class Grant:
    """What the platform gave for a code: a token pair and the shops it acts for."""

    tokens: TokenPair
    shops: list[AuthorizedShop]


def callback_url(settings: Settings, request_base_url: str, platform: str) -> str:
    """Our callback: under PUBLIC_BASE_URL, or (outside production) the URL asked on."""
    base = settings.public_base_url or request_base_url
    return base.rstrip("/") + CALLBACK_PATH.format(platform=platform)


def _require_configured(settings: Settings, platform: AuthorisingPlatform) -> None:
    if platform is AuthorisingPlatform.TIKTOK_SHOP:
        ready = bool(
            settings.tiktok_shop_app_key and settings.tiktok_shop_app_secret.get_secret_value()
        )
    else:
        ready = bool(settings.shopee_partner_id and settings.shopee_partner_key.get_secret_value())
    if not ready:
        # Not an outage (retrying will not help) and not the caller's input: a state of this
        # server that an operator changes. 409, never a 5xx that tells clients to retry.
        raise Conflict(f"{platform.value} is not configured on this server")


async def authorisation_link(
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
    http: httpx.AsyncClient,
    *,
    platform: AuthorisingPlatform,
    cooperative_id: int,
    redirect_url: str,
    now: datetime,
) -> AuthorisationLink:
    """A signed, expiring link for connecting a shop of this platform to this cooperative."""
    await require_manager(session, actor, cooperative_id)
    _require_configured(settings, platform)
    expires_at = int(now.timestamp()) + settings.oauth_state_ttl_seconds
    state, _ = issue_state(
        current_keyring(), cooperative_id, platform.value, actor.user_id, expires_at
    )
    if platform is AuthorisingPlatform.TIKTOK_SHOP:
        tiktok = tiktok_shop_client(settings, http)
        url = tiktok.authorization_url(settings.tiktok_shop_auth_base, state)
    else:
        # Shopee has no state parameter: it keeps our redirect's query and adds code, shop_id.
        url = shopee_client(settings, http).authorization_url(f"{redirect_url}?state={state}")
    return AuthorisationLink(
        authorization_url=url,
        expires_at=datetime.fromtimestamp(expires_at, tz=UTC),
        redirect_url=redirect_url,
    )


async def check_authoriser(session: AsyncSession, state: AuthorisationState) -> Actor:
    """The person who asked for the link, if they may still connect this cooperative's shops."""
    actor = await active_actor(session, state.user_id)
    if actor is None:
        raise Forbidden("the account that started this connection can no longer connect shops")
    await require_manager(session, actor, state.cooperative_id)
    return actor


async def _grant(
    settings: Settings,
    http: httpx.AsyncClient,
    platform: AuthorisingPlatform,
    code: str,
    shop_id: str | None,
) -> Grant:
    if platform is AuthorisingPlatform.TIKTOK_SHOP:
        tiktok = tiktok_shop_client(settings, http)
        tokens = await tiktok.get_token(settings.tiktok_shop_auth_base, code)
        return Grant(tokens, await tiktok.get_authorized_shops(tokens.access_token))
    if shop_id is None or not shop_id.isdigit():
        raise BadRequest("the platform's answer names no shop: start again from Phiên")
    shopee = shopee_client(settings, http)
    tokens = await shopee.get_access_token(code, int(shop_id))
    return Grant(tokens, [await shopee.get_shop_info(int(shop_id), tokens.access_token)])


async def exchange_code(
    settings: Settings,
    http: httpx.AsyncClient,
    platform: AuthorisingPlatform,
    code: str,
    shop_id: str | None = None,
) -> Grant:
    """Trade the callback's code for tokens and the platform's own word on which shops."""
    try:
        grant = await _grant(settings, http, platform, code, shop_id)
    except PlatformError as exc:
        if exc.transient:
            raise Unavailable("the platform did not answer: start again in a moment") from None
        raise BadRequest(
            f"the platform refused this authorisation ({exc.code}): start again from Phiên"
        ) from None
    if not grant.shops:
        raise BadRequest("the platform reports no shop for this authorisation")
    return grant


async def _connect_one(
    session: AsyncSession, cooperative_id: int, shop: AuthorizedShop, tokens: TokenPair
) -> ChannelConnection:
    # Row lock: the token job refreshing this shop finishes first, then our pair replaces its.
    query = select(ChannelConnection).where(
        col(ChannelConnection.platform) == shop.platform,
        col(ChannelConnection.shop_id) == shop.shop_id,
    )
    connection = (await session.execute(query.with_for_update())).scalar_one_or_none()
    if connection is not None and connection.cooperative_id != cooperative_id:
        raise Conflict(SHOP_UNAVAILABLE)
    if connection is None:
        connection = ChannelConnection(
            cooperative_id=cooperative_id, platform=shop.platform, shop_id=shop.shop_id
        )
        session.add(connection)
    connection.shop_name = (shop.name or connection.shop_name)[:200]
    connection.shop_cipher = shop.cipher
    connection.access_token, connection.refresh_token = tokens.access_token, tokens.refresh_token
    connection.access_expires_at = tokens.access_expires_at
    connection.refresh_expires_at = tokens.refresh_expires_at
    # The owner just authorised it: whatever stopped it before (reauth, disabled) is over.
    connection.status = ConnectionStatus.ACTIVE.value
    return connection


async def connect_shops(
    session: AsyncSession, state: AuthorisationState, grant: Grant
) -> list[ChannelConnectionRead]:
    """Create or refresh the connection of every granted shop (the caller commits)."""
    connections = [
        await _connect_one(session, state.cooperative_id, shop, grant.tokens)
        for shop in grant.shops
    ]
    try:
        await session.flush()
    except IntegrityError:
        # Another cooperative connected the shop between our lock-free look and the insert.
        raise Conflict(SHOP_UNAVAILABLE) from None
    return [connection_read(c) for c in connections]
