"""Many rows in one statement: `INSERT … SELECT … FROM unnest(arrays)`.

One array per column keeps the statement text the same whatever the row count, so it is
prepared once per connection, and asyncpg sends the arrays in its binary format: a batch of 50
orders costs one round trip and no SQL compilation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import TextClause, text


def unnest_insert(
    table: str,
    columns: Mapping[str, str],
    *,
    exprs: Mapping[str, str] | None = None,
    constants: Mapping[str, str] | None = None,
    tail: str = "",
) -> TextClause:
    """An INSERT of one row per array element; bind each column's list under its own name.

    `columns` maps a column to its array element type (as PostgreSQL spells it); `exprs` turns
    an unnested value into the column's (`string_to_array(flags, ',')`); `constants` fills a
    column with one SQL expression for every row (a literal or a bind) instead of an array;
    `tail` follows the SELECT (ON CONFLICT …, RETURNING …).
    """
    exprs, constants = exprs or {}, constants or {}
    arrays = [name for name in columns if name not in constants]
    unnested = ", ".join(f"CAST(:{name} AS {columns[name]}[])" for name in arrays)
    values = ", ".join(constants.get(name) or exprs.get(name, name) for name in columns)
    return text(
        f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 - names are ours, not input
        f"SELECT {values} FROM unnest({unnested}) AS r({', '.join(arrays)}) {tail}"
    )


def column_lists(rows: Sequence[Mapping[str, Any]], names: Sequence[str]) -> dict[str, list[Any]]:
    """Rows as one list per column, the bind values of an `unnest_insert`."""
    return {name: [row[name] for row in rows] for name in names}
