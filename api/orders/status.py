"""The order status axis: platform vocabularies mapped onto ours, and the one transition rule.

An order only moves forward (by rank) or to cancelled; completed and cancelled are final.
Platforms deliver events out of order, so "forward only" plus the platform update-time guard in
the ingestion keeps a late AWAITING_SHIPMENT from undoing a DELIVERED.
"""

from __future__ import annotations

from api.orders.models import OrderStatus

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
    if current == target or current in FINAL:
        return False
    if target is OrderStatus.CANCELLED:
        return True
    return _RANK[target] > _RANK[current]


def is_paid_stage(status: OrderStatus) -> bool:
    """Past payment: a prepaid order at this stage has been paid."""
    return status is not OrderStatus.CANCELLED and _RANK[status] >= _RANK[OrderStatus.ON_HOLD]
