"""Live sessions and their offers: schedule, run, pin, scoped to the actor.

Who may do what: admins everything; a cooperative's sellers and coop admins run its sessions;
programme managers read everything; logistics read within their provinces. A session the actor
may not see answers NotFound; one they may see but not run answers Forbidden.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.accounts.models import COOP_ROLES, Role, User
from api.accounts.scope import Actor
from api.catalogue.models import CatalogueStatus, Variant
from api.channels.models import ChannelConnection
from api.cooperatives.models import Cooperative
from api.cooperatives.service import get_cooperative, visible_cooperatives
from api.core.db import utcnow
from api.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from api.live_sessions.models import LiveOffer, LiveSession, LiveStatus
from api.live_sessions.schemas import (
    LiveSessionCreate,
    LiveSessionUpdate,
    OfferCreate,
    OfferRead,
    OfferUpdate,
)

# The one map of allowed status moves; everything else is refused with 409.
MOVES: dict[LiveStatus, frozenset[LiveStatus]] = {
    LiveStatus.SCHEDULED: frozenset({LiveStatus.LIVE, LiveStatus.CANCELLED}),
    LiveStatus.LIVE: frozenset({LiveStatus.ENDED}),
    LiveStatus.ENDED: frozenset(),
    LiveStatus.CANCELLED: frozenset(),
}
_VERB = {LiveStatus.LIVE: "start", LiveStatus.ENDED: "end", LiveStatus.CANCELLED: "cancel"}
OPEN_FOR_OFFERS = frozenset({LiveStatus.SCHEDULED, LiveStatus.LIVE})

# Serialises "start" per shop: two concurrent starts must not both see "nothing else is live".
_SHOP_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")


def transition(live: LiveSession, target: LiveStatus) -> None:
    """Move a session to `target` if MOVES allows it (else Conflict), stamping the window."""
    current = LiveStatus(live.status)
    if target not in MOVES[current]:
        sources = " or ".join(s.value for s, targets in MOVES.items() if target in targets)
        raise Conflict(
            f"cannot {_VERB.get(target, target.value)} live session {live.id}: it is "
            f"{current.value} (allowed only from {sources or 'nowhere'})"
        )
    now = utcnow()
    live.status = target.value
    if target is LiveStatus.LIVE:
        live.actual_start = now
    elif target is LiveStatus.ENDED:
        live.actual_end = now
        # Nothing stays pinned once the stream is over.
        live.pinned_offer_id = None


def may_run(actor: Actor, cooperative_id: int) -> bool:
    """Admins anywhere; sellers and coop admins in their own cooperative."""
    return actor.role is Role.ADMIN or (
        actor.is_coop_member and actor.cooperative_id == cooperative_id
    )


def _require_runner(actor: Actor, cooperative_id: int) -> None:
    if not may_run(actor, cooperative_id):
        raise Forbidden("only admins and this cooperative's sellers and coop admins run sessions")


def _require_status(live: LiveSession, allowed: frozenset[LiveStatus], action: str) -> None:
    if LiveStatus(live.status) not in allowed:
        states = " or ".join(sorted(s.value for s in allowed))
        raise Conflict(f"{action} only while the session is {states}; it is {live.status}")


def _visible(actor: Actor) -> Any:
    return col(LiveSession.cooperative_id).in_(
        select(col(Cooperative.id)).where(visible_cooperatives(actor))
    )


async def get_live_session(
    session: AsyncSession, actor: Actor, live_id: int, *, lock: bool = False
) -> LiveSession:
    """A session the actor may see, else NotFound; `lock` holds its row until commit."""
    query = select(LiveSession).where(col(LiveSession.id) == live_id, _visible(actor))
    if lock:
        query = query.with_for_update(of=LiveSession).execution_options(populate_existing=True)
    live = (await session.execute(query)).scalar_one_or_none()
    if live is None:
        raise NotFound("live session")
    return live


async def list_live_sessions(
    session: AsyncSession,
    actor: Actor,
    *,
    limit: int,
    offset: int,
    cooperative_id: int | None = None,
    status: LiveStatus | None = None,
    platform: str | None = None,
) -> tuple[list[LiveSession], int]:
    """Sessions in scope, latest scheduled first."""
    query = select(LiveSession).where(_visible(actor))
    if cooperative_id is not None:
        query = query.where(col(LiveSession.cooperative_id) == cooperative_id)
    if status is not None:
        query = query.where(col(LiveSession.status) == status.value)
    if platform is not None:
        query = query.where(col(LiveSession.platform) == platform)
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = await session.execute(
        query.order_by(col(LiveSession.scheduled_start).desc(), col(LiveSession.id).desc())
        .limit(limit)
        .offset(offset)
    )
    return list(rows.scalars()), int(total)


async def _host_for(
    session: AsyncSession, actor: Actor, cooperative_id: int, host_user_id: int | None
) -> int:
    if host_user_id is None:
        if actor.is_coop_member and actor.cooperative_id == cooperative_id:
            return actor.user_id
        raise Unprocessable("host_user_id is required (the caller cannot host)", "host_user_id")
    host = await session.get(User, host_user_id)
    if (
        host is None
        or not host.is_active
        or Role(host.role) not in COOP_ROLES
        or host.cooperative_id != cooperative_id
    ):
        raise Unprocessable(
            "the host must be an active seller or coop admin of this cooperative", "host_user_id"
        )
    return host_user_id


async def create_live_session(
    session: AsyncSession, actor: Actor, data: LiveSessionCreate
) -> LiveSession:
    """Schedule a session on one of the cooperative's shops."""
    await get_cooperative(session, actor, data.cooperative_id)
    _require_runner(actor, data.cooperative_id)
    connection = await session.get(ChannelConnection, data.channel_connection_id)
    if connection is None or connection.cooperative_id != data.cooperative_id:
        raise Unprocessable(
            "channel connection not found in this cooperative", "channel_connection_id"
        )
    live = LiveSession(
        cooperative_id=data.cooperative_id,
        host_user_id=await _host_for(session, actor, data.cooperative_id, data.host_user_id),
        channel_connection_id=data.channel_connection_id,
        platform=connection.platform,
        shop_id=connection.shop_id,
        title=data.title,
        scheduled_start=data.scheduled_start,
    )
    session.add(live)
    await session.flush()
    return live


async def update_live_session(
    session: AsyncSession, actor: Actor, live_id: int, data: LiveSessionUpdate
) -> LiveSession:
    """Change title or scheduled start while the session is still scheduled."""
    live = await get_live_session(session, actor, live_id, lock=True)
    _require_runner(actor, live.cooperative_id)
    _require_status(live, frozenset({LiveStatus.SCHEDULED}), "a session can be edited")
    if data.title is not None:
        live.title = data.title
    if data.scheduled_start is not None:
        live.scheduled_start = data.scheduled_start
    await session.flush()
    return live


async def change_status(
    session: AsyncSession, actor: Actor, live_id: int, target: LiveStatus
) -> LiveSession:
    """Start, end or cancel a session; only one session per shop may be live."""
    live = await get_live_session(session, actor, live_id, lock=True)
    _require_runner(actor, live.cooperative_id)
    if target is LiveStatus.LIVE and live.status == LiveStatus.SCHEDULED.value:
        await session.execute(_SHOP_LOCK, {"key": f"live:{live.platform}:{live.shop_id}"})
        other = (
            await session.execute(
                select(col(LiveSession.id)).where(
                    col(LiveSession.platform) == live.platform,
                    col(LiveSession.shop_id) == live.shop_id,
                    col(LiveSession.status) == LiveStatus.LIVE.value,
                    col(LiveSession.id) != live.id,
                )
            )
        ).scalar()
        if other is not None:
            raise Conflict(f"live session {other} of this shop is live; end it before starting")
    transition(live, target)
    await session.flush()
    return live


def offer_read(offer: LiveOffer, sku: str) -> OfferRead:
    """An offer with its SKU and remaining cap."""
    data = offer.model_dump()
    data["sku"] = sku
    cap = offer.quantity_cap
    data["units_remaining"] = None if cap is None else max(cap - offer.units_claimed, 0)
    return OfferRead.model_validate(data)


async def list_offers(session: AsyncSession, actor: Actor, live_id: int) -> list[OfferRead]:
    """A session's offers in the order they were added."""
    await get_live_session(session, actor, live_id)
    rows = await session.execute(
        select(LiveOffer, col(Variant.sku))
        .join(Variant, col(Variant.id) == col(LiveOffer.variant_id))
        .where(col(LiveOffer.live_session_id) == live_id)
        .order_by(col(LiveOffer.id))
    )
    return [offer_read(offer, sku) for offer, sku in rows]


async def add_offer(
    session: AsyncSession, actor: Actor, live_id: int, data: OfferCreate
) -> OfferRead:
    """Offer one of the cooperative's variants, while scheduled or live."""
    live = await get_live_session(session, actor, live_id, lock=True)
    _require_runner(actor, live.cooperative_id)
    _require_status(live, OPEN_FOR_OFFERS, "offers can be added")
    variant = await session.get(Variant, data.variant_id)
    if variant is None or variant.cooperative_id != live.cooperative_id:
        raise Unprocessable("variant not found in this cooperative", "variant_id")
    if variant.status == CatalogueStatus.ARCHIVED.value:
        raise Unprocessable("an archived variant cannot be offered", "variant_id")
    assert live.id is not None
    offer = LiveOffer(live_session_id=live.id, **data.model_dump())
    session.add(offer)
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict(f"variant {data.variant_id} is already offered in this session") from None
    return offer_read(offer, variant.sku)


async def _offer_of(
    session: AsyncSession, live: LiveSession, offer_id: int, *, lock: bool = False
) -> LiveOffer:
    query = select(LiveOffer).where(
        col(LiveOffer.id) == offer_id, col(LiveOffer.live_session_id) == live.id
    )
    if lock:
        # Held until commit, so a concurrent claim cannot slip between the check and the write.
        query = query.with_for_update().execution_options(populate_existing=True)
    offer = (await session.execute(query)).scalar_one_or_none()
    if offer is None:
        raise NotFound("live offer")
    return offer


async def _open_session_for_offers(
    session: AsyncSession, actor: Actor, live_id: int, action: str
) -> LiveSession:
    live = await get_live_session(session, actor, live_id, lock=True)
    _require_runner(actor, live.cooperative_id)
    _require_status(live, OPEN_FOR_OFFERS, action)
    return live


async def update_offer(
    session: AsyncSession, actor: Actor, live_id: int, offer_id: int, data: OfferUpdate
) -> OfferRead:
    """Change price, cap or per-buyer limit; the cap never drops below units claimed."""
    live = await _open_session_for_offers(session, actor, live_id, "offers can be changed")
    offer = await _offer_of(session, live, offer_id, lock=True)
    changes = data.model_dump(exclude_unset=True)
    cap = changes.get("quantity_cap", offer.quantity_cap)
    if cap is not None and cap < offer.units_claimed:
        raise Unprocessable(
            f"quantity_cap cannot go below the {offer.units_claimed} units already claimed",
            "quantity_cap",
        )
    for key, value in changes.items():
        setattr(offer, key, value)
    await session.flush()
    variant = await session.get(Variant, offer.variant_id)
    return offer_read(offer, variant.sku if variant else "")


async def delete_offer(session: AsyncSession, actor: Actor, live_id: int, offer_id: int) -> None:
    """Withdraw an offer nobody has bought yet (unpinning it if needed)."""
    live = await _open_session_for_offers(session, actor, live_id, "offers can be removed")
    offer = await _offer_of(session, live, offer_id, lock=True)
    if offer.units_claimed > 0:
        raise Conflict(
            f"offer {offer_id} has {offer.units_claimed} units claimed by orders; "
            "lower its cap instead of removing it"
        )
    if live.pinned_offer_id == offer_id:
        live.pinned_offer_id = None
    await session.delete(offer)
    await session.flush()


async def pin_offer(
    session: AsyncSession, actor: Actor, live_id: int, offer_id: int | None
) -> LiveSession:
    """Pin one offer of a live session (replacing any other), or unpin with None."""
    live = await get_live_session(session, actor, live_id, lock=True)
    _require_runner(actor, live.cooperative_id)
    _require_status(live, frozenset({LiveStatus.LIVE}), "an offer can be pinned")
    if offer_id is not None:
        try:
            await _offer_of(session, live, offer_id)
        except NotFound:
            raise Unprocessable("offer not found in this session", "offer_id") from None
    live.pinned_offer_id = offer_id
    await session.flush()
    return live
