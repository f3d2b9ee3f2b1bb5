"""Jobs that belong to no domain yet: the no-op proving the enqueue-after-commit path."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import text

log = logging.getLogger(__name__)


async def noop(ctx: dict[str, Any], marker: str) -> str:
    """Touch the database and return the marker: proves a job ran after its commit."""
    async with ctx["db"].session() as session:
        await session.execute(text("SELECT 1"))
    log.info("noop ran", extra={"marker": marker})
    return marker
