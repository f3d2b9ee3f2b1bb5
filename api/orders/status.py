"""The order's status axes: platform vocabularies mapped onto ours, and their transition rules.

An order only moves forward (by rank) or to cancelled; completed and cancelled are final.
Platforms deliver events out of order, so "forward only" plus the platform update-time guard in
the ingestion keeps a late AWAITING_SHIPMENT from undoing a DELIVERED.

Fulfilment (where the goods are) follows its own table, `FULFILMENT_MOVES`: every writer, in
Python or in SQL, asks it (`move_fulfilment`, `fulfilment_sources`), so a booking that lands
after a cancellation, or a late carrier event, cannot put the goods somewhere they are not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from api.orders.models import FulfilmentStatus, OrderStatus

_RANK = {
    OrderStatus.PENDING_PAYMENT: 0,
    OrderStatus.ON_HOLD: 1,
    OrderStatus.CONFIRMED: 2,
    OrderStatus.READY_TO_SHIP: 3,
    OrderStatus.IN_TRANSIT: 4,
    OrderStatus.DELIVERED: 5,
    OrderStatus.COMPLETED: 6,
}
FINAL = frozenset({OrderStatus.COMPLETED, OrderStatus.CANCELLED})

# TikTok Shop: the Order API says CANCELLED, the webhook doc says CANCEL (UNCONFIRMED which one
# live pushes send), so both are accepted.
TIKTOK_SHOP_STATUSES = {
    "UNPAID": OrderStatus.PENDING_PAYMENT,
    "ON_HOLD": OrderStatus.ON_HOLD,
    "AWAITING_SHIPMENT": OrderStatus.CONFIRMED,
    "PARTIALLY_SHIPPING": OrderStatus.READY_TO_SHIP,
    "AWAITING_COLLECTION": OrderStatus.READY_TO_SHIP,
    "IN_TRANSIT": OrderStatus.IN_TRANSIT,
    "DELIVERED": OrderStatus.DELIVERED,
    "COMPLETED": OrderStatus.COMPLETED,
    "CANCELLED": OrderStatus.CANCELLED,
    "CANCEL": OrderStatus.CANCELLED,
}
# Shopee v2 order_status. IN_CANCEL (buyer asked to cancel, seller to decide) and TO_RETURN keep
# the order where it is: neither is a cancellation yet.
SHOPEE_STATUSES = {
    "UNPAID": OrderStatus.PENDING_PAYMENT,
    "PENDING": OrderStatus.ON_HOLD,
    "INVOICE_PENDING": OrderStatus.ON_HOLD,
    "READY_TO_SHIP": OrderStatus.CONFIRMED,
    "PROCESSED": OrderStatus.READY_TO_SHIP,
    "RETRY_SHIP": OrderStatus.READY_TO_SHIP,
    "SHIPPED": OrderStatus.IN_TRANSIT,
    "TO_CONFIRM_RECEIVE": OrderStatus.DELIVERED,
    "COMPLETED": OrderStatus.COMPLETED,
    "CANCELLED": OrderStatus.CANCELLED,
}
PLATFORM_STATUSES = {"tiktok_shop": TIKTOK_SHOP_STATUSES, "shopee": SHOPEE_STATUSES}


def normalise(platform: str, raw_status: str) -> OrderStatus | None:
    """Our status for a platform's raw status; None when it does not move the order."""
    return PLATFORM_STATUSES.get(platform, {}).get(raw_status.strip().upper())


def can_move(current: OrderStatus, target: OrderStatus) -> bool:
    """Whether an order may go from `current` to `target` (same status is not a move)."""
    if current in FINAL:
        return False
    if target is OrderStatus.CANCELLED:
        return True
    return _RANK[target] > _RANK[current]


def is_paid_stage(status: OrderStatus) -> bool:
    """Past payment: a prepaid order at this stage has been paid."""
    return status is not OrderStatus.CANCELLED and _RANK[status] >= _RANK[OrderStatus.ON_HOLD]


_F = FulfilmentStatus
# Cancelled, delivered and returned are final. A parcel the carrier has (shipped) only goes on to
# delivered or returned; a cancel requested at the carrier ends cancelled or, if the courier had
# it already, follows the parcel. A booking never lands on a cancel (no way back to handed_off).
FULFILMENT_MOVES: Mapping[FulfilmentStatus, frozenset[FulfilmentStatus]] = {
    _F.UNFULFILLED: frozenset({_F.RESERVED, _F.BACKORDERED, _F.CANCELLED}),
    _F.BACKORDERED: frozenset({_F.RESERVED, _F.CANCELLED}),
    _F.RESERVED: frozenset({_F.PENDING_SHIPMENT, _F.CANCELLED}),
    _F.PENDING_SHIPMENT: frozenset(
        {_F.HANDED_OFF, _F.RESERVED, _F.CANCEL_REQUESTED, _F.CANCELLED, _F.SHIPPED}
    ),
    _F.HANDED_OFF: frozenset(
        {_F.SHIPPED, _F.RESERVED, _F.CANCEL_REQUESTED, _F.CANCELLED, _F.RETURNED}
    ),
    # Back to handed_off only when the carrier refuses the cancel (its courier has the parcel);
    # a booking never takes this way (the hand-off's SQL asks only from pending_shipment).
    _F.CANCEL_REQUESTED: frozenset({_F.HANDED_OFF, _F.CANCELLED, _F.SHIPPED, _F.RETURNED}),
    _F.SHIPPED: frozenset({_F.DELIVERED, _F.RETURNED}),
    _F.DELIVERED: frozenset(),
    _F.RETURNED: frozenset(),
    _F.CANCELLED: frozenset(),
}


class HasFulfilment(Protocol):
    """An order row or draft: anything with a fulfilment status to move."""

    fulfilment_status: str


def can_move_fulfilment(current: str, target: FulfilmentStatus) -> bool:
    """Whether fulfilment may go from `current` to `target` (same status is not a move)."""
    try:
        allowed = FULFILMENT_MOVES[FulfilmentStatus(current)]
    except ValueError:
        return False
    return target in allowed


def fulfilment_sources(target: FulfilmentStatus, among: Iterable[str] | None = None) -> list[str]:
    """The statuses `target` may be reached from (only those in `among`, if given), for SQL."""
    candidates = FULFILMENT_MOVES if among is None else among
    return sorted(str(s) for s in candidates if can_move_fulfilment(str(s), target))


def move_fulfilment(order: HasFulfilment, target: FulfilmentStatus) -> str | None:
    """Move the order's fulfilment if the table allows; the previous status, or None if refused."""
    previous = order.fulfilment_status
    if not can_move_fulfilment(previous, target):
        return None
    order.fulfilment_status = target.value
    return previous
