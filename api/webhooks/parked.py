"""Admins' view of the inbox: list rows (parked ones above all) and replay them.

A replayed row is made new again (not handled, not parked, no tries counted) and its job is rung
after the commit; handling is idempotent, so replaying a row that was handled is harmless.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlmodel import col

from api.accounts.models import Role
from api.accounts.scope import Actor
from api.core.db import PhienSession
from api.core.errors import Forbidden
from api.webhooks.inbox import process_job
from api.webhooks.models import InboundEvent


class EventState(StrEnum):
    """Where an inbox row stands."""

    PENDING = "pending"  # waiting for its job (or for its next try)
    HANDLED = "handled"
    FAILED = "failed"  # parked: handling gave up, a person may replay it


def state_of(handled_at: datetime | None, parked_at: datetime | None) -> EventState:
    """The state a row's timestamps say."""
    if parked_at is not None:
        return EventState.FAILED
    return EventState.HANDLED if handled_at is not None else EventState.PENDING


def require_admin(actor: Actor) -> None:
    """The inbox holds every cooperative's webhooks: admins only."""
    if actor.role is not Role.ADMIN:
        raise Forbidden("the inbox is for admins")


def _state_filter(state: EventState) -> ColumnElement[bool]:
    parked, handled = col(InboundEvent.parked_at), col(InboundEvent.handled_at)
    if state is EventState.FAILED:
        return parked.is_not(None)
    if state is EventState.HANDLED:
        return handled.is_not(None) & parked.is_(None)
    return handled.is_(None) & parked.is_(None)


async def list_events(
    session: PhienSession,
    actor: Actor,
    *,
    limit: int,
    before: int | None = None,
    **filters: Any,
) -> tuple[list[InboundEvent], int | None]:
    """Rows newest first, `limit` at a time after the id `before`; (rows, cursor of the next)."""
    require_admin(actor)
    query = select(InboundEvent).order_by(col(InboundEvent.id).desc()).limit(limit + 1)
    if before is not None:
        query = query.where(col(InboundEvent.id) < before)
    if filters.get("source"):
        query = query.where(col(InboundEvent.source) == filters["source"])
    if filters.get("state"):
        query = query.where(_state_filter(EventState(filters["state"])))
    if filters.get("key"):
        query = query.where(col(InboundEvent.event_key) == filters["key"])
    rows = list((await session.execute(query)).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)


async def replay(session: PhienSession, actor: Actor, ids: list[int]) -> list[int]:
    """Make these rows new again and ring their jobs after the commit; the ids found."""
    require_admin(actor)
    result = await session.execute(
        update(InboundEvent)
        .where(col(InboundEvent.id).in_(ids))
        .values(handled_at=None, parked_at=None, retry_after=None, attempts=0, outcome=None)
        .returning(col(InboundEvent.id), col(InboundEvent.source))
    )
    found = [(int(str(event_id)), str(source)) for event_id, source in result.all()]
    for event_id, source in found:
        job = process_job(source, event_id)
        session.enqueue_after_commit(job.function, *job.args, job_id=job.job_id)
    return sorted(event_id for event_id, _ in found)
