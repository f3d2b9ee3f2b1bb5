"""Keeping platform tokens alive: which connections are due, and one refresh that is safe to repeat.

Shopee refresh tokens are single-use, so a refresh must never run twice at once for one shop and
the new pair must be stored in the transaction that used the old one. The row lock taken here is
held across the platform call until the caller commits; a second worker skips the locked row.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import httpx
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.channels.models import ChannelConnection, Platform
from api.channels.schemas import ConnectionStatus
from api.channels.service import require_reauth
from api.core.clients import shopee_client, tiktok_shop_client
from api.core.config import Settings
from api.core.db import utcnow
from integrations.platforms import PlatformAuthError, PlatformError, TokenPair

log = logging.getLogger(__name__)

# Refresh a day ahead: a failed refresh then has many cron ticks to succeed before orders stall.
REFRESH_WINDOW = timedelta(hours=24)
REFRESHABLE_PLATFORMS = (Platform.TIKTOK_SHOP.value, Platform.SHOPEE.value)


class RefreshOutcome(StrEnum):
    """What one refresh attempt did (transient platform errors are raised instead)."""

    REFRESHED = "refreshed"
    # Not due any more (already refreshed), gone, disabled, or another worker holds the row.
    SKIPPED = "skipped"
    REAUTH_REQUIRED = "reauth_required"
    # A permanent error that is not about the tokens (our credentials, a bad payload): logged,
    # the connection left as it is, and the next cron tick tries again.
    FAILED = "failed"


def due_clause(now: datetime) -> Any:
    """Active TikTok/Shopee connections with a refresh token whose access token ends soon."""
    return and_(
        col(ChannelConnection.status) == ConnectionStatus.ACTIVE.value,
        col(ChannelConnection.platform).in_(REFRESHABLE_PLATFORMS),
        col(ChannelConnection.refresh_token).is_not(None),
        # Unknown expiry (tokens entered without one) counts as due: the refresh tells us.
        or_(
            col(ChannelConnection.access_expires_at).is_(None),
            col(ChannelConnection.access_expires_at) < now + REFRESH_WINDOW,
        ),
    )


async def due_for_refresh(session: AsyncSession, now: datetime) -> list[int]:
    """Ids of the connections whose access token should be refreshed now."""
    rows = await session.execute(
        select(col(ChannelConnection.id)).where(due_clause(now)).order_by(col(ChannelConnection.id))
    )
    return [i for i in rows.scalars() if i is not None]


async def _lock_if_due(
    session: AsyncSession, connection_id: int, now: datetime
) -> ChannelConnection | None:
    # SKIP LOCKED: a worker already refreshing this shop holds the row, so we leave it alone. The
    # due test runs after the lock, on the committed row: a finished refresh is no longer due.
    query = (
        select(ChannelConnection)
        .where(col(ChannelConnection.id) == connection_id, due_clause(now))
        .with_for_update(skip_locked=True)
    )
    return (await session.execute(query)).scalar_one_or_none()


def _missing_credentials(settings: Settings, platform: str) -> bool:
    # Without our app credentials the platform would refuse us, and we would wrongly blame the shop.
    if platform == Platform.TIKTOK_SHOP:
        secret = settings.tiktok_shop_app_secret.get_secret_value()
        return not settings.tiktok_shop_app_key or not secret
    return not settings.shopee_partner_id or not settings.shopee_partner_key.get_secret_value()


async def _call_platform(
    http: httpx.AsyncClient, settings: Settings, connection: ChannelConnection, refresh_token: str
) -> TokenPair:
    if connection.platform == Platform.TIKTOK_SHOP:
        tiktok = tiktok_shop_client(settings, http)
        return await tiktok.refresh_token(settings.tiktok_shop_auth_base, refresh_token)
    shopee = shopee_client(settings, http)
    return await shopee.refresh_token(int(connection.shop_id), refresh_token)


def _store(connection: ChannelConnection, pair: TokenPair) -> None:
    connection.access_token = pair.access_token
    connection.refresh_token = pair.refresh_token
    connection.access_expires_at = pair.access_expires_at
    connection.refresh_expires_at = pair.refresh_expires_at


def _context(connection: ChannelConnection, **more: Any) -> dict[str, Any]:
    # What a log line may say about a connection: ids and codes, never a token.
    return {"connection_id": connection.id, "platform": connection.platform, **more}


async def refresh_connection(
    session: AsyncSession,
    http: httpx.AsyncClient,
    settings: Settings,
    connection_id: int,
    now: datetime | None = None,
) -> RefreshOutcome:
    """Refresh one connection's tokens under a row lock; the caller commits (or rolls back)."""
    now = now or utcnow()
    connection = await _lock_if_due(session, connection_id, now)
    if connection is None or connection.refresh_token is None:
        return RefreshOutcome.SKIPPED
    if connection.refresh_expires_at is not None and connection.refresh_expires_at <= now:
        require_reauth(connection)
        log.warning("refresh token expired; shop must be reconnected", extra=_context(connection))
        return RefreshOutcome.REAUTH_REQUIRED
    if _missing_credentials(settings, connection.platform):
        log.error("platform app credentials are not configured", extra=_context(connection))
        return RefreshOutcome.FAILED
    try:
        pair = await _call_platform(http, settings, connection, connection.refresh_token)
    except PlatformAuthError as exc:
        require_reauth(connection)
        log.warning(
            "platform refused the refresh token; shop must be reconnected",
            extra=_context(connection, code=exc.code, platform_request_id=exc.request_id),
        )
        return RefreshOutcome.REAUTH_REQUIRED
    except PlatformError as exc:
        if exc.transient:
            raise
        log.error("token refresh failed", extra=_context(connection, code=exc.code))
        return RefreshOutcome.FAILED
    _store(connection, pair)
    await session.flush()
    log.info("platform tokens refreshed", extra=_context(connection))
    return RefreshOutcome.REFRESHED
