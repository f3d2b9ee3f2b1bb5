"""Fold the tonnage deltas written by the order triggers into the report facts."""

from __future__ import annotations

import logging
from typing import Any

from api.reports.compaction import drop_zero_facts, fold_deltas

log = logging.getLogger(__name__)
# Rounds per run: a backlog (a bulk import, a long outage) drains without one huge transaction.
_ROUNDS = 20


async def compact_tonnage(ctx: dict[str, Any]) -> int:
    """Fold pending deltas in short transactions until none are left (or the rounds run out)."""
    folded = 0
    for _ in range(_ROUNDS):
        async with ctx["db"].session() as session:
            done = await fold_deltas(session)
            await session.commit()
        folded += done
        if done == 0:
            break
    if folded:
        log.info("tonnage deltas folded", extra={"deltas": folded})
    return folded


async def drop_empty_facts(ctx: dict[str, Any]) -> int:
    """Delete facts that came back to zero (hourly housekeeping)."""
    async with ctx["db"].session() as session:
        dropped = await drop_zero_facts(session)
        await session.commit()
    return dropped
