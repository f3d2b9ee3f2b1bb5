"""The tonnage read model: per-order contributions, pending deltas and compacted facts.

Database triggers (migration 0007_tonnage) keep these in the transaction that changes an order
or its lines; `docs/reports.md` says why. Key columns use 0 / '' for "none" so the keys stay plain
unique constraints: `live_session_id` 0 is "not in a live session", `product_id` 0 an unmapped
line, and in the coarser grains the columns they do not carry.
"""

from __future__ import annotations

from datetime import date
from enum import IntEnum

from sqlalchemy import BigInteger, Column, Date, Index, SmallInteger, String
from sqlmodel import Field, SQLModel

from api.core.columns import id_field


class Grain(IntEnum):
    """How finely a fact row is cut; a report reads the coarsest grain that has its columns."""

    ORDER = 0
    CATEGORY = 1
    PRODUCT = 2


def _big(*, primary_key: bool = False) -> Column[int]:
    return Column(BigInteger, nullable=False, primary_key=primary_key)


class TonnageContribution(SQLModel, table=True):
    """What one order counts for, per product: the base each change is diffed against."""

    __tablename__ = "tonnage_contributions"

    order_id: int = Field(sa_column=_big(primary_key=True))
    product_id: int = Field(sa_column=_big(primary_key=True))
    category: str = Field(max_length=32)
    day: date = Field(sa_column=Column(Date, nullable=False))
    cooperative_id: int = Field(sa_column=_big())
    platform: str = Field(max_length=32)
    live_session_id: int = Field(sa_column=_big())
    sold: bool
    delivered: bool
    grams: int = Field(sa_column=_big())
    units: int = Field(sa_column=_big())
    gmv_vnd: int = Field(sa_column=_big())


KEY_COLUMNS = (
    "grain",
    "day",
    "cooperative_id",
    "platform",
    "live_session_id",
    "category",
    "product_id",
)
MEASURE_COLUMNS = (
    "sold_orders", "sold_units", "sold_grams", "sold_gmv_vnd",
    "delivered_orders", "delivered_units", "delivered_grams", "delivered_gmv_vnd",
)  # fmt: skip


class TonnageDelta(SQLModel, table=True):
    """A signed change not yet folded into the facts (append-only: writers never wait)."""

    __tablename__ = "tonnage_deltas"
    __table_args__ = (Index("ix_tonnage_deltas_grain_day", "grain", "day"),)

    id: int | None = id_field()
    grain: int = Field(sa_column=Column(SmallInteger, nullable=False))
    day: date = Field(sa_column=Column(Date, nullable=False))
    cooperative_id: int = Field(sa_column=_big())
    platform: str = Field(sa_column=Column(String(32), nullable=False))
    live_session_id: int = Field(sa_column=_big())
    category: str = Field(sa_column=Column(String(32), nullable=False))
    product_id: int = Field(sa_column=_big())
    sold_orders: int = Field(sa_column=_big())
    sold_units: int = Field(sa_column=_big())
    sold_grams: int = Field(sa_column=_big())
    sold_gmv_vnd: int = Field(sa_column=_big())
    delivered_orders: int = Field(sa_column=_big())
    delivered_units: int = Field(sa_column=_big())
    delivered_grams: int = Field(sa_column=_big())
    delivered_gmv_vnd: int = Field(sa_column=_big())


class _FactRow(SQLModel):
    """The columns every fact table has: its key (grain, day, coop, …) and the measures."""

    grain: int = Field(primary_key=True, sa_type=SmallInteger)
    day: date = Field(primary_key=True)
    cooperative_id: int = Field(primary_key=True, sa_type=BigInteger)
    platform: str = Field(primary_key=True, sa_type=String(32))
    live_session_id: int = Field(primary_key=True, sa_type=BigInteger)
    category: str = Field(primary_key=True, sa_type=String(32))
    product_id: int = Field(primary_key=True, sa_type=BigInteger)
    sold_orders: int = Field(sa_type=BigInteger)
    sold_units: int = Field(sa_type=BigInteger)
    sold_grams: int = Field(sa_type=BigInteger)
    sold_gmv_vnd: int = Field(sa_type=BigInteger)
    delivered_orders: int = Field(sa_type=BigInteger)
    delivered_units: int = Field(sa_type=BigInteger)
    delivered_grams: int = Field(sa_type=BigInteger)
    delivered_gmv_vnd: int = Field(sa_type=BigInteger)


class TonnageFact(_FactRow, table=True):
    """Compacted totals per key; a report adds the pending deltas to these."""

    __tablename__ = "tonnage_facts"
    __table_args__ = (
        Index("ix_tonnage_facts_grain_cooperative_day", "grain", "cooperative_id", "day"),
    )


class TonnageMonthFact(_FactRow, table=True):
    """The same totals per calendar month (`day` is the month's first day), for long ranges."""

    __tablename__ = "tonnage_month_facts"
    __table_args__ = (
        Index("ix_tonnage_month_facts_grain_cooperative_day", "grain", "cooperative_id", "day"),
    )


class TonnageWeekFact(_FactRow, table=True):
    """The same totals per week (`day` is its Monday), for reports by week."""

    __tablename__ = "tonnage_week_facts"
    __table_args__ = (
        Index("ix_tonnage_week_facts_grain_cooperative_day", "grain", "cooperative_id", "day"),
    )
