"""Browser sessions: an API token is exchanged once for a random cookie secret.

The cookie never carries the API token itself. Only the SHA-256 of the secret is stored, and the
session dies with the token (revoked or deleted), with the user (deactivated), at its expiry,
or when the person signs out.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.accounts.models import ApiToken, Role, User
from api.accounts.scope import Actor
from api.accounts.tokens import hash_token
from api.core.db import utcnow
from api.web.models import WebSession


async def sign_in(session: AsyncSession, token: str, lifetime: timedelta) -> str | None:
    """A new session secret for a valid API token, or None. Never commits."""
    row = (
        await session.execute(
            select(col(ApiToken.id))
            .join(User, col(User.id) == col(ApiToken.user_id))
            .where(
                col(ApiToken.token_hash) == hash_token(token.strip()),
                col(ApiToken.revoked_at).is_(None),
                col(User.is_active).is_(True),
            )
        )
    ).first()
    if row is None:
        return None
    secret = secrets.token_urlsafe(32)
    session.add(
        WebSession(token_id=row.id, secret_hash=hash_token(secret), expires_at=utcnow() + lifetime)
    )
    await session.flush()
    return secret


async def actor_for(session: AsyncSession, secret: str) -> Actor | None:
    """The actor behind a session cookie, or None when it is unknown, expired or revoked."""
    row = (
        await session.execute(
            select(col(User.id), col(User.role), col(User.cooperative_id), col(User.province_codes))
            .join(ApiToken, col(ApiToken.user_id) == col(User.id))
            .join(WebSession, col(WebSession.token_id) == col(ApiToken.id))
            .where(
                col(WebSession.secret_hash) == hash_token(secret),
                col(WebSession.expires_at) > utcnow(),
                col(ApiToken.revoked_at).is_(None),
                col(User.is_active).is_(True),
            )
        )
    ).first()
    if row is None:
        return None
    codes = tuple(row.province_codes) if row.province_codes is not None else None
    return Actor(row.id, Role(row.role), row.cooperative_id, codes)


async def sign_out(session: AsyncSession, secret: str) -> None:
    """End the session (and sweep expired ones). Never commits."""
    await session.execute(
        delete(WebSession).where(
            (col(WebSession.secret_hash) == hash_token(secret))
            | (col(WebSession.expires_at) <= utcnow())
        )
    )
