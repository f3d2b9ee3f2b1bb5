"""Live-offer rules without a database: windows, caps, and buyer limits on sellable units."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from api.live_sessions.claims import (
    BuyerUnits,
    Offer,
    attribute,
    claim,
    lines_by_offer,
    session_offers,
)
from tests.rules.drafts import NOON, line, order

pytestmark = pytest.mark.pure

MINUTE = timedelta(minutes=1)


def _offer(
    id_: int = 1, *, variant: int = 1, session: int = 10, cap: int | None = None,
    limit: int | None = None, claimed: int = 0, start: datetime = NOON - MINUTE,
    end: datetime | None = None,
) -> Offer:  # fmt: skip
    return Offer(id_, session, variant, cap, limit, claimed, start, end)


def test_the_window_holds_its_edges() -> None:
    offer = _offer(start=NOON, end=NOON + MINUTE)
    assert offer.covers(NOON)
    assert offer.covers(NOON + MINUTE)
    assert not offer.covers(NOON - timedelta(seconds=1))
    assert not offer.covers(NOON + MINUTE + timedelta(seconds=1))
    assert _offer(start=NOON, end=None).covers(NOON + 1000 * MINUTE)


def test_the_latest_session_of_touching_windows_wins() -> None:
    early = _offer(1, session=10, start=NOON - 2 * MINUTE, end=NOON)
    late = _offer(2, session=11, start=NOON, end=None)
    late_other_variant = _offer(3, variant=2, session=11, start=NOON, end=None)
    assert session_offers([early, late, late_other_variant], NOON) == {
        1: late, 2: late_other_variant,
    }  # fmt: skip
    assert session_offers([early], NOON - MINUTE) == {1: early}
    assert session_offers([early], NOON + MINUTE) == {}


def test_same_start_picks_the_higher_session_id() -> None:
    a = _offer(1, session=10, start=NOON)
    b = _offer(2, session=12, start=NOON)
    assert session_offers([a, b], NOON) == {1: b}
    assert session_offers([b, a], NOON) == {1: b}


def test_lines_are_grouped_by_offer_and_empty_lines_dropped() -> None:
    offer = _offer()
    a, b, none, other, empty = line(1, 2), line(1, 1), line(None, 1), line(2, 1), line(1, 0)
    assert lines_by_offer([a, none, b, other, empty], {1: offer}) == {offer: [a, b]}


def test_a_cap_takes_what_fits_and_refuses_the_rest() -> None:
    offer = _offer(cap=5, claimed=2)
    fits, exact, over = [line(1, 2)], [line(1, 1)], [line(1, 1)]
    assert claim({offer: fits}) == []
    assert claim({offer: exact}) == []
    assert claim({offer: over}) == ["offer 1: 1 units would exceed its cap of 5"]
    assert offer.added == 3
    assert [fits[0].live_offer_id, exact[0].live_offer_id, over[0].live_offer_id] == [1, 1, None]


def test_no_cap_takes_everything() -> None:
    offer = _offer(cap=None)
    lines = [line(1, 10_000)]
    assert claim({offer: lines}) == []
    assert (offer.added, lines[0].live_offer_id) == (10_000, 1)


def test_an_order_over_the_buyer_limit_takes_none_of_the_cap() -> None:
    offer = _offer(cap=3, limit=2)
    buyers = BuyerUnits({})
    greedy, fair = order(buyer_id="b-1"), order(buyer_id="b-2")
    greedy_lines, fair_lines = [line(1, 3)], [line(1, 2)]
    attribute(greedy, greedy_lines, [offer], buyers)
    attribute(fair, fair_lines, [offer], buyers)
    assert greedy.flags == ["over_buyer_limit"]
    assert greedy.flag_reasons == {"over_buyer_limit": "offer 1: buyer has 3 units, limit 2"}
    assert greedy_lines[0].live_offer_id is None
    assert greedy.live_session_id == 10  # still the session's order, for its results
    assert (fair.flags, fair_lines[0].live_offer_id) == ([], 1)
    assert offer.added == 2


def test_a_buyer_counts_only_the_units_their_orders_hold() -> None:
    offer = _offer(limit=2)
    buyers = BuyerUnits({("b-1", 10, 1): 1})
    refused, within, over = order(buyer_id="b-1"), order(buyer_id="b-1"), order(buyer_id="b-1")
    attribute(refused, [line(1, 2)], [offer], buyers)  # 1 held + 2 > 2
    attribute(within, [line(1, 1)], [offer], buyers)  # 1 held + 1 = 2
    attribute(over, [line(1, 1)], [offer], buyers)  # 2 held + 1 > 2
    assert [o.flags for o in (refused, within, over)] == [
        ["over_buyer_limit"], [], ["over_buyer_limit"],
    ]  # fmt: skip
    assert buyers.units == {("b-1", 10, 1): 2}


def test_limits_are_per_buyer_and_anonymous_buyers_have_none() -> None:
    offer = _offer(limit=1)
    buyers = BuyerUnits({})
    orders = [order(buyer_id="b-1"), order(buyer_id="b-2"), order(), order()]
    for o in orders:
        attribute(o, [line(1, 1)], [offer], buyers)
    assert [o.flags for o in orders] == [[], [], [], []]
    assert offer.added == 4
    assert buyers.units == {("b-1", 10, 1): 1, ("b-2", 10, 1): 1}


def test_over_limits_names_each_offer_in_id_order() -> None:
    first, second = _offer(1, variant=1, limit=1), _offer(2, variant=2, limit=5)
    third = _offer(3, variant=3, limit=None)
    buyers = BuyerUnits({("b", 10, 2): 5})
    by_offer = {second: [line(2, 1)], third: [line(3, 9)], first: [line(1, 2)]}
    assert buyers.over_limits(order(buyer_id="b"), by_offer) == [
        "offer 1: buyer has 2 units, limit 1", "offer 2: buyer has 6 units, limit 5",
    ]  # fmt: skip
    assert buyers.over_limits(order(), by_offer) == []


def test_a_cap_failure_on_one_offer_still_claims_the_others() -> None:
    full, open_ = _offer(1, variant=1, cap=1, claimed=1), _offer(2, variant=2, cap=10)
    placed = order()
    lines = [line(1, 1), line(2, 2)]
    attribute(placed, lines, [full, open_], BuyerUnits({}))
    assert placed.flags == ["over_offer_cap"]
    assert placed.flag_reasons == {"over_offer_cap": "offer 1: 1 units would exceed its cap of 1"}
    assert [ln.live_offer_id for ln in lines] == [None, 2]
    assert (full.added, open_.added) == (0, 2)


def test_a_cancelled_order_is_attributed_but_claims_nothing() -> None:
    offer = _offer(cap=5)
    gone = order(status="cancelled", buyer_id="b-1")
    lines = [line(1, 2)]
    attribute(gone, lines, [offer], BuyerUnits({}))
    assert (gone.live_session_id, gone.flags, lines[0].live_offer_id) == (10, [], None)
    assert offer.added == 0


def test_an_order_outside_every_window_or_offer_is_left_alone() -> None:
    offer = _offer(start=NOON, end=NOON + MINUTE)
    early = order(placed_at=NOON - MINUTE)
    attribute(early, [line(1, 1)], [offer], BuyerUnits({}))
    unoffered = order()
    attribute(unoffered, [line(2, 1)], [offer], BuyerUnits({}))
    assert (early.live_session_id, unoffered.live_session_id) == (None, None)
    assert offer.added == 0


def test_an_order_without_mapped_lines_does_not_stop_the_next() -> None:
    offer = _offer(limit=1)
    buyers = BuyerUnits({})
    first, second = order(buyer_id="b-1"), order(buyer_id="b-2")
    attribute(first, [line(None, 1)], [offer], buyers)
    second_lines = [line(1, 1)]
    attribute(second, second_lines, [offer], buyers)
    assert (first.live_session_id, second.live_session_id) == (None, 10)
    assert second_lines[0].live_offer_id == 1


def test_an_unlimited_offer_first_does_not_hide_a_later_limit() -> None:
    free, limited = _offer(1, variant=1), _offer(2, variant=2, limit=1)
    by_offer = {free: [line(1, 5)], limited: [line(2, 2)]}
    assert BuyerUnits({}).over_limits(order(buyer_id="b"), by_offer) == [
        "offer 2: buyer has 2 units, limit 1"
    ]


def test_a_buyer_is_counted_for_claimed_lines_only() -> None:
    offered = _offer(1, variant=1)
    buyers = BuyerUnits({})
    placed = order(buyer_id="b-1")
    attribute(placed, [line(1, 2), line(2, 3), line(None, 1)], [offered], buyers)
    assert buyers.units == {("b-1", 10, 1): 2}


def test_every_reason_of_an_order_is_kept() -> None:
    a, b = _offer(1, variant=1, cap=1, limit=9), _offer(2, variant=2, cap=1, limit=9)
    capped = order()
    attribute(capped, [line(1, 2), line(2, 2)], [a, b], BuyerUnits({}))
    assert capped.flag_reasons["over_offer_cap"] == (
        "offer 1: 2 units would exceed its cap of 1; offer 2: 2 units would exceed its cap of 1"
    )
    greedy = order(buyer_id="b")
    attribute(greedy, [line(1, 10), line(2, 10)], [a, b], BuyerUnits({}))
    assert greedy.flag_reasons["over_buyer_limit"] == (
        "offer 1: buyer has 10 units, limit 9; offer 2: buyer has 10 units, limit 9"
    )
