"""The order audit trail: one appended row per change, with its source."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from api.orders.models import OrderEvent

_APPEND_MANY = text(
    """
    INSERT INTO order_events (order_id, kind, source, detail)
    SELECT order_id, kind, source, CAST(detail AS jsonb)
      FROM unnest(CAST(:order_ids AS bigint[]), CAST(:kinds AS text[]),
                  CAST(:sources AS text[]), CAST(:details AS text[]))
           AS e(order_id, kind, source, detail)
    """
)


def record(session: AsyncSession, order_id: int, kind: str, source: str, **detail: Any) -> None:
    """Append an event to the order's trail (flushed with the transaction)."""
    session.add(OrderEvent(order_id=order_id, kind=kind, source=source, detail=detail))


@dataclass
class EventBatch:
    """Events of many orders, appended by one statement (the batch intake's trail)."""

    source: str
    _rows: list[tuple[int, str, str]] = field(default_factory=list)

    def add(self, order_id: int, kind: str, **detail: Any) -> None:
        """Queue one event; nothing is written until `write`."""
        self._rows.append((order_id, kind, json.dumps(detail, ensure_ascii=False)))

    async def write(self, session: AsyncSession) -> None:
        """Append every queued event in one INSERT, in the order they were added."""
        if not self._rows:
            return
        order_ids, kinds, details = (list(column) for column in zip(*self._rows, strict=True))
        await session.execute(
            _APPEND_MANY,
            {
                "order_ids": order_ids,
                "kinds": kinds,
                "sources": [self.source] * len(self._rows),
                "details": details,
            },
        )
        self._rows.clear()
