"""The order audit trail: one appended row per change, with its source."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.orders.models import OrderEvent


def record(session: AsyncSession, order_id: int, kind: str, source: str, **detail: Any) -> None:
    """Append an event to the order's trail (flushed with the transaction)."""
    session.add(OrderEvent(order_id=order_id, kind=kind, source=source, detail=detail))
