"""/api/v1/users: create members, read them, issue tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from api.accounts import service
from api.accounts.models import Role
from api.accounts.schemas import TokenCreate, TokenIssued, UserCreate, UserCreated, UserRead
from api.core.deps import MAX_ID, CurrentActor, Id, Paging, SessionDep
from api.core.errors import Forbidden
from api.core.schemas import Page

router = APIRouter(prefix="/users", tags=["users"])


@router.get("/me", response_model=UserRead)
async def read_me(session: SessionDep, actor: CurrentActor) -> UserRead:
    """The authenticated user."""
    return UserRead.model_validate(await service.get_user(session, actor, actor.user_id))


@router.get("", response_model=Page[UserRead])
async def list_users(
    session: SessionDep,
    actor: CurrentActor,
    paging: Paging,
    cooperative_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Page[UserRead]:
    """Users the caller may see (admins: all; coop admins: their members; others: themselves)."""
    users, total = await service.list_users(
        session, actor, paging.limit, paging.offset, cooperative_id
    )
    return Page(
        items=[UserRead.model_validate(u) for u in users],
        total=total,
        limit=paging.limit,
        offset=paging.offset,
    )


@router.post("", response_model=UserCreated, status_code=status.HTTP_201_CREATED)
async def create_user(session: SessionDep, actor: CurrentActor, body: UserCreate) -> UserCreated:
    """Create a user and their first token (shown once in this response)."""
    user = await service.create_user(session, actor, body)
    assert user.id is not None
    token = await service.issue_token(session, user.id)
    await session.commit()
    return UserCreated.model_validate(
        {**UserRead.model_validate(user).model_dump(), "token": token}
    )


@router.get("/{user_id}", response_model=UserRead)
async def read_user(user_id: Id, session: SessionDep, actor: CurrentActor) -> UserRead:
    """One user the caller may see."""
    return UserRead.model_validate(await service.get_user(session, actor, user_id))


@router.post("/{user_id}/tokens", response_model=TokenIssued, status_code=status.HTTP_201_CREATED)
async def create_token(
    user_id: Id, request: Request, session: SessionDep, actor: CurrentActor, body: TokenCreate
) -> TokenIssued:
    """Issue another token for yourself (admins: for anyone)."""
    user = await service.get_user(session, actor, user_id)
    if actor.role is not Role.ADMIN and user.id != actor.user_id:
        raise Forbidden("tokens are issued to their owner or by an admin")
    cap = request.app.state.settings.max_live_tokens_per_user
    token = await service.issue_token(session, user_id, body.name, max_live=cap)
    await session.commit()
    return TokenIssued(token=token, prefix=token[:10], name=body.name, user_id=user_id)


@router.delete("/{user_id}/tokens", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_tokens(user_id: Id, session: SessionDep, actor: CurrentActor) -> None:
    """Revoke every token of a user (yourself, or anyone as an admin): a lost phone, a leaver."""
    user = await service.get_user(session, actor, user_id)
    if actor.role is not Role.ADMIN and user.id != actor.user_id:
        raise Forbidden("tokens are revoked by their owner or by an admin")
    await service.revoke_tokens(session, user_id)
    await session.commit()
