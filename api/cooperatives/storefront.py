"""What a public buy page shows of a cooperative: its name and, for a live link, the session."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.cooperatives.models import Cooperative
from api.live_sessions.models import LiveSession, LiveStatus


@dataclass(frozen=True)
class Storefront:
    """The public face of a cooperative's buy page (no phone, no address, no staff)."""

    cooperative_id: int
    name: str
    live_session_id: int | None
    live_title: str | None
    live_now: bool


async def storefront(
    session: AsyncSession, cooperative_id: int, live_session_id: int | None = None
) -> Storefront | None:
    """The cooperative (and its live session) behind a buy link, or None when there is none."""
    name = (
        await session.execute(
            select(col(Cooperative.name)).where(col(Cooperative.id) == cooperative_id)
        )
    ).scalar_one_or_none()
    if name is None:
        return None
    if live_session_id is None:
        return Storefront(cooperative_id, name, None, None, False)
    live = (
        await session.execute(
            select(col(LiveSession.title), col(LiveSession.status)).where(
                col(LiveSession.id) == live_session_id,
                col(LiveSession.cooperative_id) == cooperative_id,
            )
        )
    ).one_or_none()
    if live is None:
        return None
    title, status = live
    return Storefront(cooperative_id, name, live_session_id, title, status == LiveStatus.LIVE.value)
