"""Attribute a newly seen order to the live session it was placed in, and claim offer units.

Called by the order ingestion job inside its own transaction (we never commit here).

Which lines hold a claim: `OrderLine.live_offer_id` is set only on lines whose units were
claimed against the offer's cap, and cleared again when those units are released. A line over
the cap keeps `live_offer_id` NULL; its order is still attributed (`Order.live_session_id`) and
flagged `over_offer_cap`. So "live_offer_id is set" means "these units are held on the offer".

The rules themselves (windows, caps, buyer limits: only sellable units count) are pure, in
`claims.py`; this module locks the offers, reads what buyers hold, and writes the claims.

The live window is `actual_start <= placed_at <= actual_end`, open-ended while the session is
live: a platform clock a few seconds ahead of ours must not lose an order placed on air. The
platforms stamp orders in whole seconds, so the start counts from its whole second: an order
placed in the second the seller pressed "start" belongs to the session.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from api.live_sessions.claims import BuyerUnits, Offer, attribute
from api.orders.drafts import LineDraft, OrderDraft
from api.orders.models import Order, OrderLine

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
# Units the batch's buyers already hold on the offers (claimed lines of open orders) of the same
# sessions. The batch's own orders are not attributed in the database yet, so they are not
# counted twice.
_BUYER_UNITS = text(
    """
    SELECT o.buyer_id, o.live_session_id, l.variant_id, sum(l.quantity) AS units
      FROM order_lines AS l
      JOIN orders AS o ON o.id = l.order_id
     WHERE o.live_session_id = ANY(CAST(:session_ids AS bigint[]))
       AND o.buyer_id = ANY(CAST(:buyer_ids AS text[]))
       AND o.status <> 'cancelled'
       AND l.variant_id = ANY(CAST(:variant_ids AS bigint[]))
       AND l.live_offer_id IS NOT NULL
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


async def _held_units(
    session: AsyncSession, offers: Sequence[Offer], orders: Sequence[OrderDraft]
) -> BuyerUnits:
    """What the batch's buyers already hold on the limited offers in play."""
    limited = [o for o in offers if o.per_buyer_limit is not None]
    buyers = sorted({o.buyer_id for o in orders if o.buyer_id})
    if not limited or not buyers:
        return BuyerUnits({})
    rows = await session.execute(
        _BUYER_UNITS,
        {
            "session_ids": sorted({o.session_id for o in limited}),
            "buyer_ids": buyers,
            "variant_ids": sorted({o.variant_id for o in limited}),
        },
    )
    return BuyerUnits({(r.buyer_id, r.live_session_id, r.variant_id): int(r.units) for r in rows})


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
    offers = [Offer(r.id, r.live_session_id, r.variant_id, r.quantity_cap, r.per_buyer_limit,
                    r.units_claimed, r.actual_start, r.actual_end) for r in rows]  # fmt: skip
    if not offers:
        return
    buyers = await _held_units(session, offers, [o for o, _ in placed])
    for order, lines in placed:
        attribute(order, lines, offers, buyers)
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
