"""A cooperative's COD mismatches: amounts that differ, payouts made twice, and delivered COD
parcels no statement has paid after N days (COD_OVERDUE_DAYS). One query, no buyer data.

Unknown waybills belong to no cooperative: admins read them on the statement's lines.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from api.cod.schemas import ReportItem, ReportSummary

KINDS = ("amount_differs", "paid_twice", "overdue")
MAX_EXPORT_ROWS = 100_000

_ITEMS = """
    SELECT l.outcome AS kind, l.carrier, l.waybill, l.order_id,
           o.platform_order_id AS order_reference, s.reference AS shipment_reference,
           l.expected_vnd, l.amount_collected_vnd AS collected_vnd,
           l.amount_paid_vnd AS paid_out_vnd, l.fee_vnd,
           CASE WHEN s.status = 'delivered' THEN s.status_at END AS delivered_at, l.paid_at,
           l.statement_id, l.line_no, l.reason
      FROM cod_statement_lines l
      LEFT JOIN shipments s ON s.id = l.shipment_id
      LEFT JOIN orders o ON o.id = l.order_id
     WHERE l.cooperative_id = :coop AND l.outcome IN ('amount_differs', 'paid_twice')
    UNION ALL
    SELECT 'overdue', s.carrier, s.waybill, s.order_id, o.platform_order_id, s.reference,
           s.cod_amount_vnd, NULL, NULL, NULL, s.status_at, NULL, NULL, NULL,
           'delivered ' || (current_date - (s.status_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date)
           || ' days ago, on no payout statement'
      FROM shipments s
      JOIN orders o ON o.id = s.order_id
     WHERE s.cooperative_id = :coop AND s.status = 'delivered' AND s.cod_amount_vnd > 0
       AND s.status_at < now() - make_interval(days => :days)
       AND NOT EXISTS (SELECT 1 FROM cod_statement_lines p
                        WHERE p.shipment_id = s.id AND p.outcome IN ('matched', 'amount_differs'))
"""
_PAGE = text(
    f"SELECT * FROM ({_ITEMS}) r "  # noqa: S608 - our own SQL, no input in it
    "ORDER BY kind, delivered_at NULLS LAST, waybill LIMIT :limit OFFSET :offset"
)
_SUMMARY = text(
    f"SELECT kind, count(*) AS count, coalesce(sum(expected_vnd), 0) AS expected_vnd, "  # noqa: S608
    f"coalesce(sum(collected_vnd), 0) AS collected_vnd FROM ({_ITEMS}) r GROUP BY kind"
)


def _params(cooperative_id: int, overdue_days: int) -> dict[str, Any]:
    return {"coop": cooperative_id, "days": overdue_days}


async def report_items(
    session: AsyncSession, cooperative_id: int, overdue_days: int, *, limit: int, offset: int
) -> list[ReportItem]:
    """One page of the mismatches, by kind, oldest delivery first."""
    rows = await session.execute(
        _PAGE, {**_params(cooperative_id, overdue_days), "limit": limit, "offset": offset}
    )
    return [ReportItem.model_validate(dict(row._mapping)) for row in rows]


async def report_summary(
    session: AsyncSession, cooperative_id: int, overdue_days: int
) -> list[ReportSummary]:
    """Count, expected and collected sums per kind (every kind listed, zero when none)."""
    rows = await session.execute(_SUMMARY, _params(cooperative_id, overdue_days))
    found = {row.kind: row for row in rows}
    return [
        ReportSummary(
            kind=kind,
            count=found[kind].count if kind in found else 0,
            expected_vnd=int(found[kind].expected_vnd) if kind in found else 0,
            collected_vnd=int(found[kind].collected_vnd) if kind in found else 0,
        )
        for kind in KINDS
    ]
