"""Fold pending tonnage deltas into the facts: one short transaction, any number of times.

The deltas are taken with `FOR UPDATE SKIP LOCKED` and deleted in the statement that adds them
to the facts, so a delta is folded exactly once even with two compactors, and a report (one
statement, one snapshot) sees each change either as a delta or inside a fact, never twice.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from api.reports.models import KEY_COLUMNS, MEASURE_COLUMNS

_KEYS = ", ".join(KEY_COLUMNS)
_MEASURES = ", ".join(MEASURE_COLUMNS)
_SUMS = ", ".join(f"sum({m})" for m in MEASURE_COLUMNS)
_ADD = ", ".join(f"{m} = tonnage_facts.{m} + excluded.{m}" for m in MEASURE_COLUMNS)

_FOLD = text(
    f"""
    WITH taken AS (
        DELETE FROM tonnage_deltas
         WHERE id IN (SELECT id FROM tonnage_deltas ORDER BY id LIMIT :batch
                      FOR UPDATE SKIP LOCKED)
        RETURNING {_KEYS}, {_MEASURES}
    ), folded AS (
        INSERT INTO tonnage_facts ({_KEYS}, {_MEASURES})
        SELECT {_KEYS}, {_SUMS} FROM taken GROUP BY {_KEYS}
        -- Keys are locked in one order, so two compactors never wait on each other in a circle.
        ORDER BY {_KEYS}
        ON CONFLICT ({_KEYS}) DO UPDATE SET {_ADD}
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM taken) AS deltas, (SELECT count(*) FROM folded) AS facts
    """  # noqa: S608 - names are ours, values are bound
)
# Facts that came back to zero (every order in them cancelled) are only noise for the reports.
_DROP_ZEROS = text(
    "DELETE FROM tonnage_facts WHERE " + " AND ".join(f"{m} = 0" for m in MEASURE_COLUMNS)  # noqa: S608 - names are ours, values are bound
)


async def fold_deltas(session: AsyncSession, *, batch: int = 50_000) -> int:
    """Fold up to `batch` deltas into the facts; how many were folded. Never commits."""
    row = (await session.execute(_FOLD, {"batch": batch})).one()
    return int(row.deltas)


async def drop_zero_facts(session: AsyncSession) -> int:
    """Delete facts whose every measure is zero; how many. Never commits."""
    result = await session.execute(_DROP_ZEROS)
    return int(result.rowcount)  # type: ignore[attr-defined]
