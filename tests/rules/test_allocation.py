"""Stock allocation without a database: all or nothing per order, first come first served."""

from __future__ import annotations

import pytest

from api.orders.allocation import Levels, allocate, first_short, mapped_lines
from tests.rules.drafts import line, order

pytestmark = pytest.mark.pure


def _levels(**available: int) -> dict[int, Levels]:
    # Keys v1, v2 ... are variant ids 1, 2 ...; 3 units already reserved to show it counts.
    return {
        int(k[1:]): Levels(cooperative_id=7, on_hand=n + 3, reserved=3)
        for k, n in available.items()
    }


def test_two_lines_of_one_variant_over_the_stock_backorder_the_order() -> None:
    # Each line fits alone (4 <= 5); together (8) they do not: the order is backordered,
    # nothing is reserved, and the batch goes on instead of failing.
    levels = _levels(v1=5)
    greedy = order()
    lines = [line(1, 4, sku="A"), line(1, 4, sku="B")]
    ledger = allocate([(greedy, lines)], levels)
    assert greedy.fulfilment_status == "backordered"
    assert greedy.flags == ["backordered"]
    assert greedy.flag_reasons == {"backordered": "not enough stock for B"}
    assert [ln.reserved_quantity for ln in lines] == [0, 0]
    assert ledger.variant_ids == []
    assert (levels[1].on_hand, levels[1].reserved) == (8, 3)


def test_an_order_is_reserved_all_or_nothing_and_the_next_one_served() -> None:
    levels = _levels(v1=5, v2=1)
    first, second, third = order(), order(), order()
    batch = [
        (first, [line(2, 1), line(1, 3)]),
        (second, [line(1, 1), line(2, 1, sku="TWO")]),  # v2 is gone: none of it is reserved
        (third, [line(1, 2)]),
    ]
    ledger = allocate(batch, levels)
    assert [o.fulfilment_status for o in (first, second, third)] == [
        "reserved", "backordered", "reserved",
    ]  # fmt: skip
    assert second.flag_reasons == {"backordered": "not enough stock for TWO"}
    assert [ln.reserved_quantity for ln in batch[0][1]] == [1, 3]
    assert [ln.reserved_quantity for ln in batch[1][1]] == [0, 0]
    assert (levels[1].reserved, levels[2].reserved) == (3 + 5, 3 + 1)
    # One ledger entry per reserved line, variant order, with the levels each left behind.
    assert ledger.variant_ids == [1, 2, 1]
    assert ledger.quantities == [3, 1, 2]
    assert ledger.reserved_after == [6, 4, 8]
    assert ledger.on_hand_after == [8, 4, 8]
    assert ledger.cooperative_ids == [7, 7, 7]
    assert ledger.order_ids == [first.id, first.id, third.id]
    assert ledger.reasons == [f"order {first.platform_order_id}"] * 2 + [
        f"order {third.platform_order_id}"
    ]


def test_exactly_the_available_units_fit() -> None:
    levels = _levels(v1=4)
    exact = order()
    allocate([(exact, [line(1, 2), line(1, 2)])], levels)
    assert exact.fulfilment_status == "reserved"
    assert levels[1].available == 0


def test_an_unknown_variant_is_short() -> None:
    lonely = order()
    allocate([(lonely, [line(99, 1, sku="GHOST")])], _levels(v1=5))
    assert lonely.fulfilment_status == "backordered"
    assert lonely.flag_reasons == {"backordered": "not enough stock for GHOST"}


def test_the_reason_names_the_platform_sku_without_a_seller_sku() -> None:
    short = order()
    missing = line(1, 9)
    allocate([(short, [missing])], _levels(v1=5))
    assert short.flag_reasons == {"backordered": f"not enough stock for {missing.platform_sku_id}"}


def test_unmapped_lines_are_left_alone() -> None:
    unmapped = order()
    ledger = allocate([(unmapped, [line(None, 3)])], _levels(v1=5))
    assert unmapped.fulfilment_status == "unfulfilled"
    assert unmapped.flags == []
    assert ledger.variant_ids == []


def test_mapped_lines_in_variant_order() -> None:
    lines = [line(3), line(None), line(1), line(2)]
    assert [ln.variant_id for ln in mapped_lines(lines)] == [1, 2, 3]


def test_first_short_counts_earlier_lines_of_the_same_variant() -> None:
    levels = _levels(v1=3, v2=10)
    a, b, c = line(1, 2), line(1, 1), line(1, 1)
    assert first_short([a, b], levels) is None
    assert first_short([a, b, c], levels) is c
    assert first_short([line(2, 10)], levels) is None
    assert first_short([line(2, 11)], levels) is not None


def test_a_cancelled_order_is_never_moved_back_to_reserved() -> None:
    # The intake skips cancelled orders; the fulfilment rule would refuse the move anyway.
    gone = order()
    gone.fulfilment_status = "cancelled"
    lines = [line(1, 1)]
    ledger = allocate([(gone, lines)], _levels(v1=5))
    assert gone.fulfilment_status == "cancelled"
    assert (ledger.variant_ids, lines[0].reserved_quantity) == ([], 0)


def test_an_order_with_nothing_to_reserve_does_not_stop_the_batch() -> None:
    levels = _levels(v1=5)
    unmapped, gone, served = order(), order(), order()
    gone.fulfilment_status = "cancelled"
    allocate([(unmapped, [line(None, 1)]), (gone, [line(1, 1)]), (served, [line(1, 2)])], levels)
    assert served.fulfilment_status == "reserved"
    assert levels[1].reserved == 3 + 2
