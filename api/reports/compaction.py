"""Fold pending tonnage deltas into the daily, weekly and monthly facts: one short transaction.

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
_WEEK_KEYS = _KEYS.replace("day", "date_trunc('week', day)::date", 1)
_MONTH_KEYS = _KEYS.replace("day", "date_trunc('month', day)::date", 1)


def _add(table: str) -> str:
    return ", ".join(f"{m} = {table}.{m} + excluded.{m}" for m in MEASURE_COLUMNS)


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
        ON CONFLICT ({_KEYS}) DO UPDATE SET {_add("tonnage_facts")}
        RETURNING 1
    ), weeks AS (
        INSERT INTO tonnage_week_facts ({_KEYS}, {_MEASURES})
        SELECT {_WEEK_KEYS}, {_SUMS} FROM taken GROUP BY {_WEEK_KEYS}
        ORDER BY {_WEEK_KEYS}
        ON CONFLICT ({_KEYS}) DO UPDATE SET {_add("tonnage_week_facts")}
        RETURNING 1
    ), months AS (
        INSERT INTO tonnage_month_facts ({_KEYS}, {_MEASURES})
        SELECT {_MONTH_KEYS}, {_SUMS} FROM taken GROUP BY {_MONTH_KEYS}
        ORDER BY {_MONTH_KEYS}
        ON CONFLICT ({_KEYS}) DO UPDATE SET {_add("tonnage_month_facts")}
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM taken) AS deltas, (SELECT count(*) FROM folded) AS facts,
           (SELECT count(*) FROM weeks) AS weeks, (SELECT count(*) FROM months) AS months
    """  # noqa: S608 - names are ours, values are bound
)
# Facts that came back to zero (every order in them cancelled) are only noise for the reports.
_ALL_ZERO = " AND ".join(f"{m} = 0" for m in MEASURE_COLUMNS)
_DROP_ZEROS = [
    text(f"DELETE FROM {table} WHERE {_ALL_ZERO}")  # noqa: S608 - names are ours
    for table in ("tonnage_facts", "tonnage_week_facts", "tonnage_month_facts")
]


async def fold_deltas(session: AsyncSession, *, batch: int = 50_000) -> int:
    """Fold up to `batch` deltas into the facts; how many were folded. Never commits."""
    row = (await session.execute(_FOLD, {"batch": batch})).one()
    return int(row.deltas)


async def drop_zero_facts(session: AsyncSession) -> int:
    """Delete facts whose every measure is zero; how many. Never commits."""
    dropped = 0
    for statement in _DROP_ZEROS:
        result = await session.execute(statement)
        dropped += int(result.rowcount)  # type: ignore[attr-defined]
    return dropped
