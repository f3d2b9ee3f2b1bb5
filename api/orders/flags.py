"""Flags on an order: why it needs a person's attention (it stays visible, never dropped)."""

from __future__ import annotations

from api.orders.drafts import OrderDraft
from api.orders.models import Order, OrderFlag


def add_flag(order: Order | OrderDraft, flag: OrderFlag, reason: str) -> bool:
    """Set a flag with its reason; return True if it was not set before."""
    reasons = dict(order.flag_reasons)
    reasons[flag.value] = reason[:500]
    order.flag_reasons = reasons
    if flag.value in order.flags:
        return False
    order.flags = [*order.flags, flag.value]
    return True
