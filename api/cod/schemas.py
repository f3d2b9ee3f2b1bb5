"""What the COD endpoints answer."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from api.core.schemas import Output


class StatementRead(Output):
    """An imported statement and how its lines came out."""

    id: int
    carrier: str
    file_name: str
    file_format: str
    sha256: str
    statement_ref: str | None
    statement_date: date | None
    imported_by: int | None
    imported_via: str
    imported_at: datetime
    lines_total: int
    matched: int
    amount_differs: int
    unknown_waybill: int
    paid_twice: int
    parked: int


class StatementImported(StatementRead):
    """The answer to an import: `created` is false when these bytes were imported before."""

    created: bool = Field(description="false: the same file was imported before; nothing changed")


class LineRead(Output):
    """One payout line and what it matched."""

    id: int
    statement_id: int
    line_no: int
    waybill: str | None
    amount_collected_vnd: int | None
    fee_vnd: int | None
    amount_paid_vnd: int | None
    paid_at: datetime | None
    shipment_id: int | None
    order_id: int | None
    cooperative_id: int | None
    expected_vnd: int | None
    outcome: str
    reason: str | None


class ReportItem(BaseModel):
    """One thing about a cooperative's COD that a person must look at (no buyer data)."""

    kind: str = Field(description="amount_differs | paid_twice | overdue")
    carrier: str
    waybill: str | None
    order_id: int | None
    order_reference: str | None = Field(description="the platform's order id")
    shipment_reference: str | None
    expected_vnd: int | None
    collected_vnd: int | None
    paid_out_vnd: int | None
    fee_vnd: int | None
    delivered_at: datetime | None
    paid_at: datetime | None
    statement_id: int | None
    line_no: int | None
    reason: str | None


class ReportSummary(BaseModel):
    """Counts and sums per kind."""

    kind: str
    count: int
    expected_vnd: int
    collected_vnd: int


class CodReport(BaseModel):
    """A cooperative's COD mismatches; programme managers get the summary only."""

    cooperative_id: int
    overdue_days: int
    summary: list[ReportSummary]
    items: list[ReportItem]
    total: int
    limit: int
    offset: int
