"""A carrier's COD payout statement as imported, and its lines with what each matched."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

from api.cooperatives.models import cooperative_fk
from api.core.columns import created_at_field, id_field
from api.orders.models import one_of
from api.shipments.models import CARRIERS


class Outcome(StrEnum):
    """What one payout line came to."""

    MATCHED = "matched"
    AMOUNT_DIFFERS = "amount_differs"
    UNKNOWN_WAYBILL = "unknown_waybill"
    PAID_TWICE = "paid_twice"
    # The row could not be read (no waybill, an amount that is not a number): kept with why.
    PARKED = "parked"


# A payout that counts for its waybill: at most one per (carrier, waybill), ever.
COUNTED = (Outcome.MATCHED.value, Outcome.AMOUNT_DIFFERS.value)
_CARRIERS = ", ".join(f"'{c}'" for c in CARRIERS)


class CodStatement(SQLModel, table=True):
    """One imported statement; the same content (sha256 of what it says) is one statement."""

    __tablename__ = "cod_statements"
    __table_args__ = (
        UniqueConstraint("sha256"),
        CheckConstraint(f"carrier IN ({_CARRIERS})", name="carrier_known"),
        CheckConstraint("file_format IN ('csv', 'xlsx')", name="file_format_known"),
    )

    id: int | None = id_field()
    carrier: str = Field(max_length=32)
    file_name: str = Field(max_length=255)
    file_format: str = Field(max_length=8)
    sha256: str = Field(max_length=64)
    # Printed above the table by some carriers ("Mã bảng kê", "Ngày đối soát"); often absent.
    statement_ref: str | None = Field(default=None, max_length=100)
    statement_date: date | None = Field(default=None, sa_column=Column(Date))
    imported_by: int | None = Field(
        default=None,
        sa_column=Column(BigInteger, ForeignKey("users.id", ondelete="SET NULL")),
    )
    imported_via: str = Field(default="api", max_length=16)
    imported_at: datetime = created_at_field()
    lines_total: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    matched: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    amount_differs: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    unknown_waybill: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    paid_twice: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    parked: int = Field(default=0, sa_column=Column(Integer, nullable=False))


class CodStatementLine(SQLModel, table=True):
    """One row of a statement: what the carrier says it collected and paid, and our verdict."""

    __tablename__ = "cod_statement_lines"
    __table_args__ = (
        UniqueConstraint("statement_id", "line_no"),
        one_of("outcome", Outcome),
        # The database, not the code, makes sure a waybill's payout is counted once.
        Index(
            "uq_cod_statement_lines_counted_payout",
            "carrier",
            "waybill",
            unique=True,
            postgresql_where=text("outcome IN ('matched', 'amount_differs')"),
        ),
        Index("ix_cod_statement_lines_statement_id_outcome", "statement_id", "outcome", "id"),
        Index("ix_cod_statement_lines_shipment_id", "shipment_id"),
        Index("ix_cod_statement_lines_cooperative_id_outcome", "cooperative_id", "outcome"),
    )

    id: int | None = id_field()
    statement_id: int = Field(
        sa_column=Column(
            BigInteger, ForeignKey("cod_statements.id", ondelete="CASCADE"), nullable=False
        )
    )
    carrier: str = Field(max_length=32)
    # The spreadsheet's row number (header included), so a person finds it in the file.
    line_no: int = Field(sa_column=Column(Integer, nullable=False))
    waybill: str | None = Field(default=None, max_length=64)
    amount_collected_vnd: int | None = Field(default=None, sa_column=Column(BigInteger))
    fee_vnd: int | None = Field(default=None, sa_column=Column(BigInteger))
    amount_paid_vnd: int | None = Field(default=None, sa_column=Column(BigInteger))
    paid_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    # Money records: the shipment, order and cooperative they paid for cannot be deleted.
    shipment_id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger, ForeignKey("shipments.id", ondelete="RESTRICT")),
    )
    order_id: int | None = Field(
        default=None, sa_column=Column(BigInteger, ForeignKey("orders.id", ondelete="RESTRICT"))
    )
    cooperative_id: int | None = Field(
        default=None, sa_column=cooperative_fk(nullable=True, index=False)
    )
    expected_vnd: int | None = Field(default=None, sa_column=Column(BigInteger))
    outcome: str = Field(max_length=32)
    reason: str | None = Field(default=None, max_length=500)
    created_at: datetime = created_at_field()
