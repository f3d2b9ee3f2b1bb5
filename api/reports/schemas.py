"""What a tonnage report asks for and what it answers (no buyer data: only aggregates)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, Field, model_validator

from api.catalogue.models import Category
from api.channels.models import Platform

TIMEZONE = "Asia/Ho_Chi_Minh"
MAX_ROWS_PER_PAGE = 1000
MAX_EXPORT_ROWS = 100_000


class Dimension(StrEnum):
    """What a report can be grouped and filtered by."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    PROVINCE = "province"
    COMMUNE = "commune"
    COOPERATIVE = "cooperative"
    CATEGORY = "category"
    PRODUCT = "product"
    CHANNEL = "channel"
    LIVE_SESSION = "live_session"


TIME_DIMENSIONS = frozenset({Dimension.DAY, Dimension.WEEK, Dimension.MONTH})


class Sort(StrEnum):
    """Rows in key order, or the biggest sellers first."""

    KEY = "key"
    SOLD_DESC = "sold_desc"


class ReportSpec(BaseModel):
    """A report: one or two groupings, filters, a local date range (both ends included)."""

    group_by: list[Dimension] = Field(min_length=1, max_length=2)
    date_from: date | None = None
    date_to: date | None = None
    provinces: list[int] = Field(default_factory=list, max_length=100)
    communes: list[int] = Field(default_factory=list, max_length=500)
    cooperatives: list[int] = Field(default_factory=list, max_length=500)
    categories: list[Category] = Field(default_factory=list, max_length=20)
    products: list[int] = Field(default_factory=list, max_length=500)
    channels: list[Platform] = Field(default_factory=list, max_length=10)
    live_sessions: list[int] = Field(default_factory=list, max_length=500)
    sort: Sort = Sort.KEY

    @model_validator(mode="after")
    def _check(self) -> ReportSpec:
        if len(set(self.group_by)) != len(self.group_by):
            raise ValueError("group_by must not repeat a dimension")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError("date_from must not be after date_to")
        ids = (self.provinces, self.communes, self.cooperatives, self.products, self.live_sessions)
        if any(not 1 <= value < 2**63 for values in ids for value in values):
            raise ValueError("ids must be between 1 and 2^63-1")
        return self

    def uses(self, dimension: Dimension) -> bool:
        """Whether the report groups or filters by `dimension`."""
        filters = {
            Dimension.PROVINCE: self.provinces, Dimension.COMMUNE: self.communes,
            Dimension.COOPERATIVE: self.cooperatives, Dimension.CATEGORY: self.categories,
            Dimension.PRODUCT: self.products, Dimension.CHANNEL: self.channels,
            Dimension.LIVE_SESSION: self.live_sessions,
        }  # fmt: skip
        return dimension in self.group_by or bool(filters.get(dimension))


class Measures(BaseModel):
    """One measure set: exact grams, and kg / tonnes derived from them."""

    orders: int
    units: int
    grams: int
    kg: float
    tonnes: float
    gmv_vnd: int

    @classmethod
    def of(cls, orders: int, units: int, grams: int, gmv_vnd: int) -> Measures:
        """Measures from integer sums (kg and tonnes rounded to the gram)."""
        return cls(
            orders=orders, units=units, grams=grams, kg=round(grams / 1000, 3),
            tonnes=round(grams / 1_000_000, 6), gmv_vnd=gmv_vnd,
        )  # fmt: skip


class ReportRow(BaseModel):
    """One group: its key per dimension (ISO date, id or code; null = none) and label."""

    key: dict[str, int | str | None]
    label: dict[str, str | None]
    sold: Measures
    delivered: Measures


class TonnageReport(BaseModel):
    """A page of groups, and the totals of everything the filters match."""

    group_by: list[Dimension]
    date_from: date | None
    date_to: date | None
    timezone: str = TIMEZONE
    sold_means: str = "orders neither cancelled nor returned"
    delivered_means: str = "sold orders the platform or the carrier reports delivered"
    items: list[ReportRow]
    total: int
    limit: int
    offset: int
    totals: dict[str, Measures]
