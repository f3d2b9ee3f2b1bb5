"""The one fulfilment rule, without a database: every writer asks `FULFILMENT_MOVES`."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from api.orders.models import FulfilmentStatus
from api.orders.status import (
    FULFILMENT_MOVES,
    can_move_fulfilment,
    fulfilment_sources,
    move_fulfilment,
)

pytestmark = pytest.mark.pure

F = FulfilmentStatus
FINAL = {F.DELIVERED, F.RETURNED, F.CANCELLED}
# The whole table, spelled out: a change to the rule must change this test too.
ALLOWED = {
    (F.UNFULFILLED, F.RESERVED), (F.UNFULFILLED, F.BACKORDERED), (F.UNFULFILLED, F.CANCELLED),
    (F.BACKORDERED, F.RESERVED), (F.BACKORDERED, F.CANCELLED),
    (F.RESERVED, F.PENDING_SHIPMENT), (F.RESERVED, F.CANCELLED),
    (F.PENDING_SHIPMENT, F.HANDED_OFF), (F.PENDING_SHIPMENT, F.RESERVED),
    (F.PENDING_SHIPMENT, F.CANCEL_REQUESTED), (F.PENDING_SHIPMENT, F.CANCELLED),
    (F.PENDING_SHIPMENT, F.SHIPPED),
    (F.HANDED_OFF, F.SHIPPED), (F.HANDED_OFF, F.RESERVED), (F.HANDED_OFF, F.CANCEL_REQUESTED),
    (F.HANDED_OFF, F.CANCELLED), (F.HANDED_OFF, F.RETURNED),
    (F.CANCEL_REQUESTED, F.HANDED_OFF), (F.CANCEL_REQUESTED, F.CANCELLED),
    (F.CANCEL_REQUESTED, F.SHIPPED),
    (F.CANCEL_REQUESTED, F.RETURNED),
    (F.SHIPPED, F.DELIVERED), (F.SHIPPED, F.RETURNED),
}  # fmt: skip


@dataclass
class _Order:
    fulfilment_status: str


def test_every_status_has_a_row() -> None:
    assert set(FULFILMENT_MOVES) == set(FulfilmentStatus)


@pytest.mark.parametrize("current", list(FulfilmentStatus))
@pytest.mark.parametrize("target", list(FulfilmentStatus))
def test_the_table_is_exactly_the_rule(current: F, target: F) -> None:
    assert can_move_fulfilment(current.value, target) is ((current, target) in ALLOWED)


@pytest.mark.parametrize("final", sorted(FINAL))
def test_final_statuses_never_move(final: F) -> None:
    assert not any(can_move_fulfilment(final.value, target) for target in FulfilmentStatus)


def test_a_booking_never_lands_on_a_cancel() -> None:
    # The hand-off's SQL asks for these sources: a cancelled or cancel-requested order stays so
    # (only a refused cancel moves cancel_requested back to handed_off).
    assert fulfilment_sources(F.HANDED_OFF) == ["cancel_requested", "pending_shipment"]
    assert fulfilment_sources(F.HANDED_OFF, among=("pending_shipment",)) == ["pending_shipment"]


def test_sources_are_the_table_read_backwards() -> None:
    assert fulfilment_sources(F.RESERVED) == [
        "backordered", "handed_off", "pending_shipment", "unfulfilled",
    ]  # fmt: skip
    assert fulfilment_sources(F.CANCELLED) == [
        "backordered", "cancel_requested", "handed_off", "pending_shipment", "reserved",
        "unfulfilled",
    ]  # fmt: skip


def test_sources_narrowed_by_the_caller() -> None:
    stages = ("pending_shipment", "handed_off", "cancelled")
    assert fulfilment_sources(F.RESERVED, among=stages) == ["handed_off", "pending_shipment"]
    assert fulfilment_sources(F.RESERVED, among=()) == []


def test_move_sets_and_returns_the_previous_status() -> None:
    order = _Order("pending_shipment")
    assert move_fulfilment(order, F.HANDED_OFF) == "pending_shipment"
    assert order.fulfilment_status == "handed_off"


def test_a_refused_move_changes_nothing() -> None:
    order = _Order("cancelled")
    assert move_fulfilment(order, F.HANDED_OFF) is None
    assert order.fulfilment_status == "cancelled"


def test_an_unknown_status_moves_nowhere() -> None:
    order = _Order("lost_in_the_mail")
    assert not can_move_fulfilment("lost_in_the_mail", F.RESERVED)
    assert move_fulfilment(order, F.RESERVED) is None
    assert order.fulfilment_status == "lost_in_the_mail"


def test_staying_put_is_not_a_move() -> None:
    for status in FulfilmentStatus:
        assert not can_move_fulfilment(status.value, status)
