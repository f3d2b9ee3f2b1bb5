"""Attribute a newly seen order to the live session it was placed in, and claim offer units.

Called by the order ingestion job inside its own transaction (we never commit here).

Which lines hold a claim: `OrderLine.live_offer_id` is set only on lines whose units were
claimed against the offer's cap, and cleared again when those units are released. A line over
the cap keeps `live_offer_id` NULL; its order is still attributed (`Order.live_session_id`) and
flagged `over_offer_cap`. So "live_offer_id is set" means "these units are held on the offer".

The live window is `actual_start <= placed_at <= actual_end`, open-ended while the session is
live: a platform clock a few seconds ahead of ours must not lose an order placed on air.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.live_sessions.models import LiveOffer, LiveSession, LiveStatus
from api.orders.flags import add_flag
from api.orders.models import Order, OrderFlag, OrderLine, OrderStatus

# One conditional statement per offer: concurrent orders queue on the offer's row lock and
# each re-checks the cap against the committed count, so the cap can never be overshot.
_CLAIM = text(
    """
    UPDATE live_offers
       SET units_claimed = units_claimed + :quantity
     WHERE id = :offer_id
       AND (quantity_cap IS NULL OR units_claimed + :quantity <= quantity_cap)
 RETURNING units_claimed
    """
)
# GREATEST keeps the release safe to repeat against a count already corrected by hand.
_RELEASE = text(
    """
    UPDATE live_offers
       SET units_claimed = GREATEST(units_claimed - :quantity, 0)
     WHERE id = :offer_id
 RETURNING units_claimed
    """
)


@dataclass(frozen=True)
class _Offer:
    id: int
    session_id: int
    variant_id: int
    cap: int | None
    per_buyer_limit: int | None


async def _offers_in_window(
    session: AsyncSession, order: Order, variant_ids: Sequence[int]
) -> list[_Offer]:
    """Offers for these variants in the shop's session whose window holds `placed_at`."""
    rows = await session.execute(
        select(
            col(LiveOffer.id),
            col(LiveSession.id),
            col(LiveOffer.variant_id),
            col(LiveOffer.quantity_cap),
            col(LiveOffer.per_buyer_limit),
        )
        .join(LiveOffer, col(LiveOffer.live_session_id) == col(LiveSession.id))
        .where(
            col(LiveSession.platform) == order.platform,
            col(LiveSession.shop_id) == order.shop_id,
            col(LiveSession.status).in_([LiveStatus.LIVE.value, LiveStatus.ENDED.value]),
            col(LiveSession.actual_start) <= order.placed_at,
            or_(
                col(LiveSession.actual_end).is_(None),
                col(LiveSession.actual_end) >= order.placed_at,
            ),
            col(LiveOffer.variant_id).in_(variant_ids),
        )
        .order_by(col(LiveSession.actual_start).desc(), col(LiveOffer.id))
    )
    offers = []
    for offer_id, session_id, variant_id, cap, per_buyer_limit in rows:
        assert offer_id is not None  # primary keys
        assert session_id is not None
        offers.append(_Offer(offer_id, session_id, variant_id, cap, per_buyer_limit))
    # Windows of one shop do not overlap (one live at a time); keep the latest if they touch.
    return [o for o in offers if o.session_id == offers[0].session_id] if offers else []


def _lines_by_offer(
    lines: Sequence[OrderLine], offers: Sequence[_Offer]
) -> dict[_Offer, list[OrderLine]]:
    by_variant = {o.variant_id: o for o in offers}
    grouped: dict[_Offer, list[OrderLine]] = defaultdict(list)
    for line in lines:
        offer = by_variant.get(line.variant_id) if line.variant_id is not None else None
        if offer is not None and line.quantity > 0:
            grouped[offer].append(line)
    return grouped


async def _claim(session: AsyncSession, offer: _Offer, lines: list[OrderLine]) -> str | None:
    """Claim the lines' units on the offer; the reason it failed, or None on success."""
    quantity = sum(line.quantity for line in lines)
    claimed = (await session.execute(_CLAIM, {"offer_id": offer.id, "quantity": quantity})).first()
    if claimed is None:
        return f"offer {offer.id}: {quantity} units would exceed its cap of {offer.cap}"
    for line in lines:
        line.live_offer_id = offer.id
    return None


async def _buyer_units_elsewhere(
    session: AsyncSession, order: Order, session_id: int, variant_ids: list[int]
) -> dict[int, int]:
    """Units of each variant the same buyer has in the session's other live orders."""
    rows = await session.execute(
        select(col(OrderLine.variant_id), func.coalesce(func.sum(col(OrderLine.quantity)), 0))
        .join(Order, col(Order.id) == col(OrderLine.order_id))
        .where(
            col(Order.live_session_id) == session_id,
            col(Order.buyer_id) == order.buyer_id,
            col(Order.id) != order.id,
            col(Order.status) != OrderStatus.CANCELLED.value,
            col(OrderLine.variant_id).in_(variant_ids),
        )
        .group_by(col(OrderLine.variant_id))
    )
    return {variant_id: int(units) for variant_id, units in rows if variant_id}


async def _check_buyer_limits(
    session: AsyncSession, order: Order, by_offer: dict[_Offer, list[OrderLine]]
) -> None:
    limited = [o for o in by_offer if o.per_buyer_limit is not None]
    if not order.buyer_id or not limited:
        return
    # Runs after the claims: a buyer's concurrent order that claimed the same offer holds its
    # row lock until commit, so by now its lines are visible to this statement.
    elsewhere = await _buyer_units_elsewhere(
        session, order, limited[0].session_id, [o.variant_id for o in limited]
    )
    over = []
    for offer in limited:
        units = elsewhere.get(offer.variant_id, 0) + sum(ln.quantity for ln in by_offer[offer])
        if offer.per_buyer_limit is not None and units > offer.per_buyer_limit:
            over.append(f"offer {offer.id}: buyer has {units} units, limit {offer.per_buyer_limit}")
    if over:
        add_flag(order, OrderFlag.OVER_BUYER_LIMIT, "; ".join(over))


async def attribute_order(session: AsyncSession, order: Order, lines: list[OrderLine]) -> None:
    """Attribute a first-seen order to its live session and claim its offers' units."""
    # Already attributed means this is a re-run of the same job: claiming again would double count.
    if order.live_session_id is not None or order.placed_at is None or order.id is None:
        return
    variant_ids = sorted({line.variant_id for line in lines if line.variant_id is not None})
    offers = await _offers_in_window(session, order, variant_ids) if variant_ids else []
    if not offers:
        return
    order.live_session_id = offers[0].session_id
    if order.status == OrderStatus.CANCELLED.value:
        return  # counted as the session's cancellation; it holds no units
    by_offer = _lines_by_offer(lines, offers)
    failures = []
    # Ascending offer id: two orders claiming the same offers lock them in the same order.
    for offer in sorted(by_offer, key=lambda o: o.id):
        reason = await _claim(session, offer, by_offer[offer])
        if reason is not None:
            failures.append(reason)
    if failures:
        add_flag(order, OrderFlag.OVER_OFFER_CAP, "; ".join(failures))
    await _check_buyer_limits(session, order, by_offer)


async def release_order_claims(session: AsyncSession, order: Order, lines: list[OrderLine]) -> None:
    """Give back the units a cancelled order holds on offers; safe to call twice."""
    held: dict[int, list[OrderLine]] = defaultdict(list)
    for line in lines:
        if line.live_offer_id is not None:
            held[line.live_offer_id].append(line)
    for offer_id in sorted(held):
        quantity = sum(line.quantity for line in held[offer_id])
        await session.execute(_RELEASE, {"offer_id": offer_id, "quantity": quantity})
        # Cleared so a second call (the job re-run) has nothing left to give back.
        for line in held[offer_id]:
            line.live_offer_id = None
