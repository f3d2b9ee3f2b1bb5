"""The live-offer rules, pure: which session an order belongs to, caps and buyer limits.

`attribution.py` locks the offers and feeds them here; nothing in this module touches the
database, so the rules are tested (and mutation-tested) without one.

Caps and buyer limits count only sellable units. An order over a buyer's limit is flagged
`over_buyer_limit` for a person to decide and claims nothing on any offer, so it cannot starve
other buyers of a cap. A buyer's units are those their orders hold on the offer (claimed lines).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from api.orders.drafts import LineDraft, OrderDraft
from api.orders.flags import add_flag
from api.orders.models import OrderFlag, OrderStatus


@dataclass(eq=False)
class Offer:
    """A locked live offer with its session's window and what this batch added to it."""

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
        """Whether an order placed at this time falls in the session's window."""
        return self.start <= placed_at and (self.end is None or placed_at <= self.end)


def session_offers(offers: Sequence[Offer], placed_at: datetime) -> dict[int, Offer]:
    """variant id -> offer of the session whose window holds `placed_at` (the latest if two
    windows of the shop touch: one live at a time, so they never overlap)."""
    inside = [o for o in offers if o.covers(placed_at)]
    if not inside:
        return {}
    latest = max(inside, key=lambda o: (o.start, o.session_id))
    return {o.variant_id: o for o in inside if o.session_id == latest.session_id}


def lines_by_offer(
    lines: Sequence[LineDraft], by_variant: dict[int, Offer]
) -> dict[Offer, list[LineDraft]]:
    """The order's lines grouped by the offer of their variant (lines of no offer left out)."""
    grouped: dict[Offer, list[LineDraft]] = defaultdict(list)
    for line in lines:
        offer = by_variant.get(line.variant_id or 0)  # ids start at 1: 0 is "unmapped"
        if offer is not None and line.quantity > 0:
            grouped[offer].append(line)
    return grouped


BuyerKey = tuple[str, int, int]  # buyer id, session id, variant id


class BuyerUnits:
    """Units per (buyer, session, variant): held elsewhere plus this batch's earlier orders."""

    def __init__(self, held: dict[BuyerKey, int]) -> None:
        self.units = held

    def over_limits(self, order: OrderDraft, by_offer: dict[Offer, list[LineDraft]]) -> list[str]:
        """Why the order would take its buyer over an offer's limit (empty: it would not)."""
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
        """Add the order's claimed units (those held on an offer) to its buyer's count."""
        if not order.buyer_id:
            return
        for line in lines:
            if line.variant_id is not None and line.live_offer_id is not None:
                key = (order.buyer_id, session_id, line.variant_id)
                self.units[key] = self.units.get(key, 0) + line.quantity


def claim(by_offer: dict[Offer, list[LineDraft]]) -> list[str]:
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


def attribute(
    order: OrderDraft, lines: Sequence[LineDraft], offers: Sequence[Offer], buyers: BuyerUnits
) -> None:
    """Attribute one placed order to its session and claim what it may (orders in turn)."""
    assert order.placed_at is not None
    by_variant = session_offers(offers, order.placed_at)
    if not any(ln.variant_id in by_variant for ln in lines):
        return
    session_id = next(iter(by_variant.values())).session_id
    order.live_session_id = session_id
    if order.status == OrderStatus.CANCELLED.value:
        return  # counted as the session's cancellation; it holds no units
    by_offer = lines_by_offer(lines, by_variant)
    over = buyers.over_limits(order, by_offer)
    if over:
        add_flag(order, OrderFlag.OVER_BUYER_LIMIT, "; ".join(over))
        return  # not sellable until a person decides: it takes no units of any cap
    failures = claim(by_offer)
    if failures:
        add_flag(order, OrderFlag.OVER_OFFER_CAP, "; ".join(failures))
    buyers.count(order, session_id, lines)
