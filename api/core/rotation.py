"""Re-encrypt every stored secret under the newest key (`phien secrets rotate`).

The columns are found, not listed: every column of type EncryptedText in the schema, so a
secret added later is rotated without touching this module.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Column, Table, Text, select, type_coerce, update
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.encryption import EncryptedText, Keyring
from api.core.models import metadata

BATCH = 500


@dataclass
class RotationReport:
    """What one rotation did, per table: values rewritten and values already current."""

    rewritten: dict[str, int]
    current: dict[str, int]


def encrypted_columns() -> dict[Table, list[Column[str]]]:
    """Every table holding EncryptedText columns, with those columns."""
    found: dict[Table, list[Column[str]]] = {}
    for table in metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, EncryptedText)]
        if columns:
            found[table] = columns
    return found


async def _rotate_batch(
    session: AsyncSession,
    keyring: Keyring,
    table: Table,
    columns: list[Column[str]],
    after: object,
) -> tuple[object | None, int, int]:
    (key,) = table.primary_key.columns
    # type_coerce to Text: read and write the stored ciphertext itself, not the decrypted value.
    raw = [type_coerce(c, Text).label(c.name) for c in columns]
    query = select(key, *raw).order_by(key).limit(BATCH).with_for_update()
    if after is not None:
        query = query.where(key > after)
    rows = (await session.execute(query)).all()
    rewritten = current = 0
    for row in rows:
        changes = {}
        for column in columns:
            value = row._mapping[column.name]
            if value is None:
                continue
            if keyring.is_current(value):
                current += 1
            else:
                changes[column.name] = type_coerce(keyring.rotate(value), Text)
        if changes:
            await session.execute(update(table).where(key == row[0]).values(changes))
            rewritten += len(changes)
    return (rows[-1][0] if rows else None), rewritten, current


async def rotate_secrets(session: AsyncSession, keyring: Keyring) -> RotationReport:
    """Rewrite each secret not yet under the newest key; commits after every batch of rows."""
    report = RotationReport({}, {})
    for table, columns in encrypted_columns().items():
        after: object | None = None
        rewritten = current = 0
        while True:
            # Row locks per batch, committed at once: the token job waits a moment at most.
            after, done, kept = await _rotate_batch(session, keyring, table, columns, after)
            await session.commit()
            rewritten, current = rewritten + done, current + kept
            if after is None:
                break
        report.rewritten[table.name], report.current[table.name] = rewritten, current
    return report
