"""Users and tokens: creation, authentication, scoped listing."""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.accounts.models import COOP_ROLES, ApiToken, Role, User
from api.accounts.schemas import UserCreate
from api.accounts.scope import Actor
from api.accounts.tokens import display_prefix, hash_token, new_token
from api.cooperatives.addresses import province_count
from api.cooperatives.models import Cooperative
from api.core.config import get_settings
from api.core.db import utcnow
from api.core.errors import Conflict, Forbidden, NotFound, Unprocessable

EMAIL_UNAVAILABLE = "this email address cannot be used for a new account; please use another"


async def authenticate(session: AsyncSession, token: str) -> Actor | None:
    """The actor behind a bearer token, or None if it is unknown, revoked or inactive."""
    row = (
        await session.execute(
            select(col(User.id), col(User.role), col(User.cooperative_id), col(User.province_codes))
            .join(ApiToken, col(ApiToken.user_id) == col(User.id))
            .where(
                col(ApiToken.token_hash) == hash_token(token),
                col(ApiToken.revoked_at).is_(None),
                col(User.is_active).is_(True),
            )
        )
    ).first()
    if row is None:
        return None
    codes = tuple(row.province_codes) if row.province_codes is not None else None
    return Actor(row.id, Role(row.role), row.cooperative_id, codes)


async def active_actor(session: AsyncSession, user_id: int) -> Actor | None:
    """The actor of an active user, by id (for work a person started earlier), else None."""
    row = (
        await session.execute(
            select(col(User.role), col(User.cooperative_id), col(User.province_codes)).where(
                col(User.id) == user_id, col(User.is_active).is_(True)
            )
        )
    ).first()
    if row is None:
        return None
    codes = tuple(row.province_codes) if row.province_codes is not None else None
    return Actor(user_id, Role(row.role), row.cooperative_id, codes)


def _check_may_create(actor: Actor, data: UserCreate) -> None:
    if actor.role is Role.ADMIN:
        return
    if actor.role is Role.COOP_ADMIN and data.role in COOP_ROLES:
        if data.cooperative_id != actor.cooperative_id:
            raise NotFound("cooperative")
        return
    raise Forbidden("only admins create users (coop admins: members of their own cooperative)")


async def create_user(session: AsyncSession, actor: Actor | None, data: UserCreate) -> User:
    """Create a user after checking the creator's rights and the role's shape."""
    if actor is not None:
        _check_may_create(actor, data)
    if (data.role in COOP_ROLES) != (data.cooperative_id is not None):
        raise Unprocessable(
            "coop_admin and seller need a cooperative_id; other roles must not have one",
            field="cooperative_id",
        )
    if data.province_codes is not None:
        if data.role is not Role.LOGISTICS:
            raise Unprocessable("only logistics users have province scope", "province_codes")
        if any(code < 1 or code > 99 for code in data.province_codes):
            raise Unprocessable(
                f"province codes are 1..99 ({province_count()} exist)", "province_codes"
            )
    if (
        data.cooperative_id is not None
        and await session.get(Cooperative, data.cooperative_id) is None
    ):
        raise NotFound("cooperative")
    user = User(**data.model_dump(mode="json"))
    session.add(user)
    try:
        await session.flush()
    except IntegrityError:
        # The same answer wherever the address is in use: neither the address nor another
        # cooperative is named, so a coop admin cannot probe who uses the service.
        raise Conflict(EMAIL_UNAVAILABLE) from None
    return user


async def issue_token(
    session: AsyncSession, user_id: int, name: str = "default", max_live: int | None = None
) -> str:
    """Create a token for a user and return it in clear (the only time it exists so).

    A user holds at most `max_live` live tokens (MAX_LIVE_TOKENS_PER_USER): the oldest beyond
    that are revoked, so a forgotten script cannot pile up credentials.
    """
    cap = max_live if max_live is not None else get_settings().max_live_tokens_per_user
    # One issuer at a time per user, so two concurrent issues cannot both keep the cap.
    await session.execute(select(col(User.id)).where(col(User.id) == user_id).with_for_update())
    token = new_token()
    session.add(
        ApiToken(
            user_id=user_id, token_hash=hash_token(token), prefix=display_prefix(token), name=name
        )
    )
    await session.flush()
    live = col(ApiToken.revoked_at).is_(None)
    beyond = (
        select(col(ApiToken.id))
        .where(col(ApiToken.user_id) == user_id, live)
        .order_by(col(ApiToken.id).desc())
        .offset(max(cap, 1))
    )
    await session.execute(
        update(ApiToken).where(col(ApiToken.id).in_(beyond)).values(revoked_at=utcnow())
    )
    return token


async def revoke_tokens(session: AsyncSession, user_id: int) -> int:
    """Revoke every live token of a user; return how many."""
    result = await session.execute(
        update(ApiToken)
        .where(col(ApiToken.user_id) == user_id, col(ApiToken.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def _visible_users(actor: Actor) -> ColumnElement[bool]:
    if actor.role is Role.ADMIN:
        return true()
    if actor.role is Role.COOP_ADMIN:
        return col(User.cooperative_id) == actor.cooperative_id
    return col(User.id) == actor.user_id


async def get_user(session: AsyncSession, actor: Actor, user_id: int) -> User:
    """A user the actor may see, else NotFound."""
    user = (
        await session.execute(select(User).where(col(User.id) == user_id, _visible_users(actor)))
    ).scalar_one_or_none()
    if user is None:
        raise NotFound("user")
    return user


async def list_users(
    session: AsyncSession, actor: Actor, limit: int, offset: int, cooperative_id: int | None
) -> tuple[list[User], int]:
    """Users the actor may see, newest first."""
    query = select(User).where(_visible_users(actor))
    if cooperative_id is not None:
        query = query.where(col(User.cooperative_id) == cooperative_id)
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = await session.execute(query.order_by(col(User.id).desc()).limit(limit).offset(offset))
    return list(rows.scalars()), int(total)
