"""Import a parsed statement and reconcile it against shipments, set-based, in one transaction.

Every line goes in as `pending` (or `parked`), then a handful of UPDATEs settle all of them at
once: match by (carrier, waybill), unknown waybills, the same waybill twice in this file, a
waybill already paid by an earlier statement, then matched or amount_differs. Orders are marked
by one conditional UPDATE. Imports for one carrier take turns (a transaction advisory lock), and
the partial unique index on counted payouts makes a double count impossible even so.
Services never commit: the caller (request or CLI) owns the transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.cod.models import CodStatement, Outcome
from api.cod.parsing import ParsedLine, ParsedStatement
from api.core.bulk import unnest_insert

CHUNK = 5_000
Step = Callable[[str, int], None]

_INSERT_LINES = unnest_insert(
    "cod_statement_lines",
    {
        "statement_id": "bigint", "carrier": "text", "line_no": "integer", "waybill": "text",
        "amount_collected_vnd": "bigint", "fee_vnd": "bigint", "amount_paid_vnd": "bigint",
        "paid_at": "timestamptz", "outcome": "text", "reason": "text",
    },
    constants={"statement_id": ":statement_id", "carrier": ":carrier"},
)  # fmt: skip

_RECONCILE = (
    # By waybill, to a shipment of the same carrier.
    """
    UPDATE cod_statement_lines l
       SET shipment_id = s.id, order_id = s.order_id, cooperative_id = s.cooperative_id,
           expected_vnd = s.cod_amount_vnd
      FROM shipments s
     WHERE l.statement_id = :sid AND l.outcome = 'pending'
       AND s.carrier = l.carrier AND s.waybill = l.waybill
    """,
    """
    UPDATE cod_statement_lines
       SET outcome = 'unknown_waybill', reason = 'no shipment of this carrier has this waybill'
     WHERE statement_id = :sid AND outcome = 'pending' AND shipment_id IS NULL
    """,
    # The same waybill twice in this file: the first line counts, the others are paid twice.
    """
    UPDATE cod_statement_lines l
       SET outcome = 'paid_twice', reason = 'also on line ' || f.first_line || ' of this statement'
      FROM (SELECT id, line_no, min(line_no) OVER (PARTITION BY waybill) AS first_line
              FROM cod_statement_lines WHERE statement_id = :sid AND outcome = 'pending') f
     WHERE l.id = f.id AND f.line_no > f.first_line
    """,
    # Already paid out by an earlier statement (the counted payout of this waybill).
    """
    UPDATE cod_statement_lines l
       SET outcome = 'paid_twice',
           reason = 'already paid on line ' || p.line_no || ' of statement ' || p.statement_id
      FROM cod_statement_lines p
     WHERE l.statement_id = :sid AND l.outcome = 'pending'
       AND p.carrier = l.carrier AND p.waybill = l.waybill
       AND p.outcome IN ('matched', 'amount_differs')
    """,
    """
    UPDATE cod_statement_lines
       SET outcome = CASE WHEN amount_collected_vnd = expected_vnd
                          THEN 'matched' ELSE 'amount_differs' END,
           reason = CASE WHEN amount_collected_vnd = expected_vnd THEN NULL
                         ELSE 'collected ' || amount_collected_vnd
                              || ' VND, the shipment''s COD is ' || expected_vnd || ' VND' END
     WHERE statement_id = :sid AND outcome = 'pending'
    """,
    """
    UPDATE shipments s
       SET cod_collected_vnd = l.amount_collected_vnd, updated_at = now()
      FROM cod_statement_lines l
     WHERE l.statement_id = :sid AND l.outcome = 'matched' AND s.id = l.shipment_id
       AND s.cod_collected_vnd IS DISTINCT FROM l.amount_collected_vnd
    """,
    # One conditional UPDATE marks the orders; every matched line leaves a trail on its order.
    """
    WITH paid AS (
        UPDATE orders o
           SET payment_status = 'cod_collected', updated_at = now()
          FROM cod_statement_lines l
         WHERE l.statement_id = :sid AND l.outcome = 'matched' AND o.id = l.order_id
           AND o.payment_method = 'cod' AND o.payment_status IN ('pending', 'cod_pending')
        RETURNING o.id
    )
    INSERT INTO order_events (order_id, kind, source, detail)
    SELECT l.order_id, 'cod_paid_out', 'cod_statement',
           jsonb_build_object('statement_id', l.statement_id, 'line_no', l.line_no,
                              'waybill', l.waybill, 'amount_vnd', l.amount_collected_vnd,
                              'paid_out_vnd', l.amount_paid_vnd,
                              'marked_collected', paid.id IS NOT NULL)
      FROM cod_statement_lines l LEFT JOIN paid ON paid.id = l.order_id
     WHERE l.statement_id = :sid AND l.outcome = 'matched'
    """,
)
RECONCILE_STEPS = len(_RECONCILE)
_COUNT = text(
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
    """
)
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


def _line_values(line: ParsedLine) -> dict[str, object]:
    return {
        "line_no": line.line_no,
        "waybill": line.waybill,
        "amount_collected_vnd": line.collected,
        "fee_vnd": line.fee,
        "amount_paid_vnd": line.paid,
        "paid_at": line.paid_at,
        "outcome": (Outcome.PARKED if line.problem else Outcome.PENDING).value,
        "reason": line.problem,
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
                "carrier": upload.carrier,
                "file_name": upload.file_name[:255],
                "file_format": parsed.file_format,
                "sha256": upload.sha256,
                "statement_ref": parsed.statement_ref,
                "statement_date": parsed.statement_date,
                "imported_by": upload.imported_by,
                "imported_via": upload.imported_via,
            },
        )
    ).scalar_one_or_none()
    if new_id is None:
        existing = await find_statement(session, upload.sha256)
        assert existing is not None
        return existing, False
    names = list(_line_values(ParsedLine(0)))
    for start in range(0, len(parsed.lines), CHUNK):
        chunk = [_line_values(line) for line in parsed.lines[start : start + CHUNK]]
        binds: dict[str, object] = {name: [row[name] for row in chunk] for name in names}
        await session.execute(
            _INSERT_LINES, {**binds, "statement_id": new_id, "carrier": upload.carrier}
        )
        if step is not None:
            step("stored", len(chunk))
    for statement in _RECONCILE:
        await session.execute(text(statement), {"sid": new_id})
        if step is not None:
            step("reconciled", 1)
    await session.execute(_COUNT, {"sid": new_id})
    stored = await session.get(CodStatement, new_id, populate_existing=True)
    assert stored is not None
    return stored, True
