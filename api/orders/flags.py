"""Flags on an order: why it needs a person's attention (it stays visible, never dropped)."""

from __future__ import annotations

from api.orders.models import Order, OrderFlag


def add_flag(order: Order, flag: OrderFlag, reason: str) -> bool:
    """Set a flag with its reason; return True if it was not set before."""
    reasons = dict(order.flag_reasons)
    reasons[flag.value] = reason[:500]
    order.flag_reasons = reasons
    if flag.value in order.flags:
        return False
    order.flags = [*order.flags, flag.value]
    return True


def clear_flag(order: Order, flag: OrderFlag) -> bool:
    """Remove a flag once its cause is gone; return True if it was set."""
    if flag.value not in order.flags:
        return False
    order.flags = [f for f in order.flags if f != flag.value]
    order.flag_reasons = {k: v for k, v in order.flag_reasons.items() if k != flag.value}
    return True
