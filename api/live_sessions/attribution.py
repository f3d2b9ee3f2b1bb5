"""Attribute a newly seen order to the live session it was placed in, and claim offer units.

Called by the order ingestion job inside its own transaction (we never commit here).

Which lines hold a claim: `OrderLine.live_offer_id` is set only on lines whose units were
claimed against the offer's cap, and cleared again when those units are released. A line over
the cap keeps `live_offer_id` NULL; its order is still attributed (`Order.live_session_id`) and
flagged `over_offer_cap`. So "live_offer_id is set" means "these units are held on the offer".

The live window is `actual_start <= placed_at <= actual_end`, open-ended while the session is
live: a platform clock a few seconds ahead of ours must not lose an order placed on air. The
platforms stamp orders in whole seconds, so the start counts from its whole second: an order
placed in the second the seller pressed "start" belongs to the session.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from api.orders.drafts import LineDraft, OrderDraft
from api.orders.flags import add_flag
from api.orders.models import Order, OrderFlag, OrderLine, OrderStatus

# GREATEST keeps the release safe to repeat against a count already corrected by hand.
_RELEASE = text(
    """
    UPDATE live_offers
       SET units_claimed = GREATEST(units_claimed - :quantity, 0)
     WHERE id = :offer_id
 RETURNING units_claimed
    """
)


_OFFERS_IN_WINDOWS = text(
    """
    SELECT o.id, o.live_session_id, o.variant_id, o.quantity_cap, o.per_buyer_limit,
           o.units_claimed, date_trunc('second', s.actual_start) AS actual_start, s.actual_end
      FROM live_sessions AS s
      JOIN live_offers AS o ON o.live_session_id = s.id
     WHERE s.platform = :platform AND s.shop_id = :shop_id
       AND s.status IN ('live', 'ended')
       AND date_trunc('second', s.actual_start) <= :latest
       AND (s.actual_end IS NULL OR s.actual_end >= :earliest)
       AND o.variant_id = ANY(CAST(:variant_ids AS bigint[]))
     ORDER BY o.id
       FOR UPDATE OF o
    """
)
# Units the batch's buyers already hold in other orders of the same sessions. The batch's own
# orders are not attributed in the database yet, so they are not counted twice.
_BUYER_UNITS = text(
    """
    SELECT o.buyer_id, o.live_session_id, l.variant_id, sum(l.quantity) AS units
      FROM order_lines AS l
      JOIN orders AS o ON o.id = l.order_id
     WHERE o.live_session_id = ANY(CAST(:session_ids AS bigint[]))
       AND o.buyer_id = ANY(CAST(:buyer_ids AS text[]))
       AND o.status <> 'cancelled'
       AND l.variant_id = ANY(CAST(:variant_ids AS bigint[]))
     GROUP BY o.buyer_id, o.live_session_id, l.variant_id
    """
)
_CLAIM_MANY = text(
    """
    UPDATE live_offers AS o
       SET units_claimed = o.units_claimed + c.quantity
      FROM unnest(CAST(:offer_ids AS bigint[]), CAST(:quantities AS integer[]))
           AS c(offer_id, quantity)
     WHERE o.id = c.offer_id
       AND (o.quantity_cap IS NULL OR o.units_claimed + c.quantity <= o.quantity_cap)
 RETURNING o.id
    """
)


@dataclass(eq=False)
class _Offer:
    id: int
    session_id: int
    variant_id: int
    cap: int | None
    per_buyer_limit: int | None
    claimed: int
    start: datetime
    end: datetime | None
    added: int = 0

    def covers(self, placed_at: datetime) -> bool:
        return self.start <= placed_at and (self.end is None or placed_at <= self.end)


def _session_offers(offers: Sequence[_Offer], placed_at: datetime) -> dict[int, _Offer]:
    """variant id -> offer of the session whose window holds `placed_at` (the latest if two
    windows of the shop touch: one live at a time, so they never overlap)."""
    inside = [o for o in offers if o.covers(placed_at)]
    if not inside:
        return {}
    latest = max(inside, key=lambda o: (o.start, o.session_id))
    return {o.variant_id: o for o in inside if o.session_id == latest.session_id}


def _lines_by_offer(
    lines: Sequence[LineDraft], by_variant: dict[int, _Offer]
) -> dict[_Offer, list[LineDraft]]:
    grouped: dict[_Offer, list[LineDraft]] = defaultdict(list)
    for line in lines:
        offer = by_variant.get(line.variant_id) if line.variant_id is not None else None
        if offer is not None and line.quantity > 0:
            grouped[offer].append(line)
    return grouped


BuyerKey = tuple[str, int, int]  # buyer id, session id, variant id


class _BuyerUnits:
    """Units per (buyer, session, variant): committed elsewhere plus this batch's earlier orders."""

    def __init__(self, committed: dict[BuyerKey, int]) -> None:
        self.units = committed

    @classmethod
    async def load(
        cls, session: AsyncSession, offers: Sequence[_Offer], orders: Sequence[OrderDraft]
    ) -> _BuyerUnits:
        limited = [o for o in offers if o.per_buyer_limit is not None]
        buyers = sorted({o.buyer_id for o in orders if o.buyer_id})
        if not limited or not buyers:
            return cls({})
        rows = await session.execute(
            _BUYER_UNITS,
            {
                "session_ids": sorted({o.session_id for o in limited}),
                "buyer_ids": buyers,
                "variant_ids": sorted({o.variant_id for o in limited}),
            },
        )
        return cls({(r.buyer_id, r.live_session_id, r.variant_id): int(r.units) for r in rows})

    def over_limits(self, order: OrderDraft, by_offer: dict[_Offer, list[LineDraft]]) -> list[str]:
        over = []
        for offer in sorted(by_offer, key=lambda o: o.id):
            if offer.per_buyer_limit is None or not order.buyer_id:
                continue
            key = (order.buyer_id, offer.session_id, offer.variant_id)
            units = self.units.get(key, 0) + sum(ln.quantity for ln in by_offer[offer])
            if units > offer.per_buyer_limit:
                over.append(
                    f"offer {offer.id}: buyer has {units} units, limit {offer.per_buyer_limit}"
                )
        return over

    def count(self, order: OrderDraft, session_id: int, lines: Sequence[LineDraft]) -> None:
        if not order.buyer_id:
            return
        for line in lines:
            if line.variant_id is not None:
                key = (order.buyer_id, session_id, line.variant_id)
                self.units[key] = self.units.get(key, 0) + line.quantity


def _claim(order: OrderDraft, by_offer: dict[_Offer, list[LineDraft]]) -> list[str]:
    """Claim each offer's units against its cap (as locked, plus the batch so far)."""
    failures = []
    for offer in sorted(by_offer, key=lambda o: o.id):
        quantity = sum(line.quantity for line in by_offer[offer])
        if offer.cap is not None and offer.claimed + offer.added + quantity > offer.cap:
            failures.append(
                f"offer {offer.id}: {quantity} units would exceed its cap of {offer.cap}"
            )
            continue
        offer.added += quantity
        for line in by_offer[offer]:
            line.live_offer_id = offer.id
    return failures


async def attribute_new_orders(
    session: AsyncSession,
    platform: str,
    shop_id: str,
    batch: Sequence[tuple[OrderDraft, Sequence[LineDraft]]],
) -> None:
    """Attribute first-seen orders of one shop to their live sessions and claim offer units.

    The offers in play are locked (in id order, after the stock rows: the same order as every
    other writer) for the rest of the transaction, so each cap is checked against the committed
    count plus this batch and can never be overshot. Orders are taken in the caller's order.
    """
    placed = [(o, lines) for o, lines in batch if o.placed_at is not None]
    variant_ids = sorted({ln.variant_id for _, lines in placed for ln in lines if ln.variant_id})
    if not variant_ids:
        return
    times = [o.placed_at for o, _ in placed if o.placed_at is not None]
    rows = await session.execute(
        _OFFERS_IN_WINDOWS,
        {"platform": platform, "shop_id": shop_id, "latest": max(times), "earliest": min(times),
         "variant_ids": variant_ids},
    )  # fmt: skip
    offers = [_Offer(r.id, r.live_session_id, r.variant_id, r.quantity_cap, r.per_buyer_limit,
                     r.units_claimed, r.actual_start, r.actual_end) for r in rows]  # fmt: skip
    if not offers:
        return
    buyers = await _BuyerUnits.load(session, offers, [o for o, _ in placed])
    for order, lines in placed:
        assert order.placed_at is not None
        by_variant = _session_offers(offers, order.placed_at)
        if not any(ln.variant_id in by_variant for ln in lines):
            continue
        session_id = next(iter(by_variant.values())).session_id
        order.live_session_id = session_id
        if order.status == OrderStatus.CANCELLED.value:
            continue  # counted as the session's cancellation; it holds no units
        by_offer = _lines_by_offer(lines, by_variant)
        failures = _claim(order, by_offer)
        if failures:
            add_flag(order, OrderFlag.OVER_OFFER_CAP, "; ".join(failures))
        over = buyers.over_limits(order, by_offer)
        if over:
            add_flag(order, OrderFlag.OVER_BUYER_LIMIT, "; ".join(over))
        buyers.count(order, session_id, lines)
    claimed = [o for o in offers if o.added]
    if claimed:
        updated = await session.execute(
            _CLAIM_MANY,
            {"offer_ids": [o.id for o in claimed], "quantities": [o.added for o in claimed]},
        )
        if len(updated.all()) != len(claimed):
            raise RuntimeError("an offer's claimed units moved under its lock")


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
