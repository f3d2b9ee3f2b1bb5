"""Import a parsed statement and reconcile it against shipments, set-based, in one transaction.

The parsed lines go into a temporary table (one INSERT … unnest per 5,000 lines); one
INSERT … SELECT then writes every statement line with its verdict already decided: matched by
(carrier, waybill) to a shipment, unknown, the same waybill twice in this file, a waybill an
earlier statement already paid, matched or amount_differs. (Deciding before the insert matters:
a row updated in the transaction that inserted it has its foreign keys checked again.) Then one
UPDATE of shipments, one conditional UPDATE of orders, one INSERT of order events.

Imports for one carrier take turns (a transaction advisory lock); the partial unique index on
counted payouts makes a double count impossible even so. Services never commit: the caller
(request or CLI) owns the transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.cod.models import CodStatement
from api.cod.parsing import ParsedLine, ParsedStatement
from api.core.bulk import unnest_insert

CHUNK = 5_000
Step = Callable[[str, int], None]

_INCOMING = """
    CREATE TEMPORARY TABLE cod_incoming (
        line_no integer PRIMARY KEY, waybill text, collected bigint, fee bigint, paid bigint,
        paid_at timestamptz, problem text
    ) ON COMMIT DROP
"""
_INSERT_INCOMING = unnest_insert(
    "cod_incoming",
    {
        "line_no": "integer", "waybill": "text", "collected": "bigint", "fee": "bigint",
        "paid": "bigint", "paid_at": "timestamptz", "problem": "text",
    },
)  # fmt: skip

_RECONCILE = (
    "ANALYZE cod_incoming",
    """
    INSERT INTO cod_statement_lines (statement_id, carrier, line_no, waybill,
                amount_collected_vnd, fee_vnd, amount_paid_vnd, paid_at, shipment_id, order_id,
                cooperative_id, expected_vnd, outcome, reason)
    SELECT :sid, :carrier, i.line_no, i.waybill, i.collected, i.fee, i.paid, i.paid_at,
           i.shipment_id, i.order_id, i.cooperative_id, i.expected,
           CASE WHEN i.problem IS NOT NULL THEN 'parked'
                WHEN i.shipment_id IS NULL THEN 'unknown_waybill'
                WHEN i.line_no > i.first_line OR p.id IS NOT NULL THEN 'paid_twice'
                WHEN i.collected = i.expected THEN 'matched'
                ELSE 'amount_differs' END,
           CASE WHEN i.problem IS NOT NULL THEN i.problem
                WHEN i.shipment_id IS NULL THEN 'no shipment of this carrier has this waybill'
                WHEN i.line_no > i.first_line
                     THEN 'also on line ' || i.first_line || ' of this statement'
                WHEN p.id IS NOT NULL
                     THEN 'already paid on line ' || p.line_no || ' of statement '
                          || p.statement_id
                WHEN i.collected = i.expected THEN NULL
                ELSE 'collected ' || i.collected || ' VND, the shipment''s COD is '
                     || i.expected || ' VND' END
      FROM (SELECT c.*, s.id AS shipment_id, s.order_id, s.cooperative_id,
                   s.cod_amount_vnd AS expected,
                   min(c.line_no) FILTER (WHERE c.problem IS NULL)
                       OVER (PARTITION BY c.waybill) AS first_line
              FROM cod_incoming c
              LEFT JOIN shipments s ON s.carrier = :carrier AND s.waybill = c.waybill) i
      LEFT JOIN cod_statement_lines p
             ON p.carrier = :carrier AND p.waybill = i.waybill
            AND p.outcome IN ('matched', 'amount_differs')
    """,
    """
    UPDATE shipments s
       SET cod_collected_vnd = l.amount_collected_vnd, updated_at = now()
      FROM cod_statement_lines l
     WHERE l.statement_id = :sid AND l.outcome = 'matched' AND s.id = l.shipment_id
       AND s.cod_collected_vnd IS DISTINCT FROM l.amount_collected_vnd
    """,
    # One conditional UPDATE marks the orders (a prepaid or refunded order stays as it is).
    """
    UPDATE orders o
       SET payment_status = 'cod_collected', updated_at = now()
      FROM cod_statement_lines l
     WHERE l.statement_id = :sid AND l.outcome = 'matched' AND o.id = l.order_id
       AND o.payment_method = 'cod' AND o.payment_status IN ('pending', 'cod_pending')
    """,
    # Every matched line leaves a trail on its order.
    """
    INSERT INTO order_events (order_id, kind, source, detail)
    SELECT order_id, 'cod_paid_out', 'cod_statement',
           jsonb_build_object('statement_id', statement_id, 'line_no', line_no,
                              'waybill', waybill, 'amount_vnd', amount_collected_vnd,
                              'paid_out_vnd', amount_paid_vnd)
      FROM cod_statement_lines
     WHERE statement_id = :sid AND outcome = 'matched'
    """,
    """
    UPDATE cod_statements st
       SET lines_total = c.total, matched = c.matched, amount_differs = c.differs,
           unknown_waybill = c.unknown, paid_twice = c.twice, parked = c.parked
      FROM (SELECT count(*) AS total,
                   count(*) FILTER (WHERE outcome = 'matched') AS matched,
                   count(*) FILTER (WHERE outcome = 'amount_differs') AS differs,
                   count(*) FILTER (WHERE outcome = 'unknown_waybill') AS unknown,
                   count(*) FILTER (WHERE outcome = 'paid_twice') AS twice,
                   count(*) FILTER (WHERE outcome = 'parked') AS parked
              FROM cod_statement_lines WHERE statement_id = :sid) c
     WHERE st.id = :sid
    """,
)
RECONCILE_STEPS = len(_RECONCILE)
_INSERT_STATEMENT = text(
    """
    INSERT INTO cod_statements (carrier, file_name, file_format, sha256, statement_ref,
                                statement_date, imported_by, imported_via, lines_total, matched,
                                amount_differs, unknown_waybill, paid_twice, parked)
    VALUES (:carrier, :file_name, :file_format, :sha256, :statement_ref, :statement_date,
            :imported_by, :imported_via, 0, 0, 0, 0, 0, 0)
    ON CONFLICT (sha256) DO NOTHING
    RETURNING id
    """
)


@dataclass(frozen=True)
class Upload:
    """Who sent which file for which carrier."""

    carrier: str
    file_name: str
    sha256: str
    imported_by: int | None
    imported_via: str = "api"


async def find_statement(session: AsyncSession, sha256: str) -> CodStatement | None:
    """The statement already imported from these exact bytes, if any."""
    found = await session.execute(select(CodStatement).where(col(CodStatement.sha256) == sha256))
    return found.scalar_one_or_none()


def _columns(lines: list[ParsedLine]) -> dict[str, list[object]]:
    return {
        "line_no": [line.line_no for line in lines],
        "waybill": [line.waybill for line in lines],
        "collected": [line.collected for line in lines],
        "fee": [line.fee for line in lines],
        "paid": [line.paid for line in lines],
        "paid_at": [line.paid_at for line in lines],
        "problem": [line.problem for line in lines],
    }


async def import_statement(
    session: AsyncSession, upload: Upload, parsed: ParsedStatement, step: Step | None = None
) -> tuple[CodStatement, bool]:
    """(statement, created): the existing one when these bytes were imported before."""
    # Imports of one carrier take turns: "already paid by an earlier statement" then sees them.
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"cod:{upload.carrier}"}
    )
    new_id = (
        await session.execute(
            _INSERT_STATEMENT,
            {
                "carrier": upload.carrier, "file_name": upload.file_name[:255],
                "file_format": parsed.file_format, "sha256": upload.sha256,
                "statement_ref": parsed.statement_ref, "statement_date": parsed.statement_date,
                "imported_by": upload.imported_by, "imported_via": upload.imported_via,
            },
        )
    ).scalar_one_or_none()  # fmt: skip
    if new_id is None:
        existing = await find_statement(session, upload.sha256)
        assert existing is not None
        return existing, False
    await session.execute(text(_INCOMING))
    for start in range(0, len(parsed.lines), CHUNK):
        chunk = parsed.lines[start : start + CHUNK]
        await session.execute(_INSERT_INCOMING, _columns(chunk))
        if step is not None:
            step("stored", len(chunk))
    for statement in _RECONCILE:
        await session.execute(text(statement), {"sid": new_id, "carrier": upload.carrier})
        if step is not None:
            step("reconciled", 1)
    stored = await session.get(CodStatement, new_id, populate_existing=True)
    assert stored is not None
    return stored, True
