"""Request and response bodies for live sessions, their offers and their stats."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import Field, field_validator, model_validator

from api.core.columns import aware
from api.core.schemas import Input, Output
from api.live_sessions.models import LiveStatus

MAX_PRICE_VND = 1_000_000_000
MAX_UNITS = 10_000_000
MAX_ID = 2**63 - 1


class LiveSessionCreate(Input):
    """Schedule a session on one of the cooperative's channel connections."""

    cooperative_id: int = Field(ge=1, le=MAX_ID)
    channel_connection_id: int = Field(ge=1, le=MAX_ID)
    title: str = Field(min_length=1, max_length=200)
    scheduled_start: datetime
    host_user_id: int | None = Field(default=None, ge=1, le=MAX_ID)

    @field_validator("scheduled_start")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return aware(value).astimezone(UTC)


class LiveSessionUpdate(Input):
    """What may change while the session is still scheduled."""

    title: str | None = Field(default=None, min_length=1, max_length=200)
    scheduled_start: datetime | None = None

    @field_validator("scheduled_start")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return None if value is None else aware(value).astimezone(UTC)


class LiveSessionRead(Output):
    """A live session as the API shows it."""

    id: int
    cooperative_id: int
    host_user_id: int | None
    channel_connection_id: int
    platform: str
    shop_id: str
    title: str
    status: LiveStatus
    scheduled_start: datetime
    actual_start: datetime | None
    actual_end: datetime | None
    pinned_offer_id: int | None
    created_at: datetime
    updated_at: datetime


class OfferCreate(Input):
    """A variant offered at a live price, optionally capped overall and per buyer."""

    variant_id: int = Field(ge=1, le=MAX_ID)
    live_price_vnd: int = Field(ge=0, le=MAX_PRICE_VND)
    quantity_cap: int | None = Field(default=None, ge=1, le=MAX_UNITS)
    per_buyer_limit: int | None = Field(default=None, ge=1, le=MAX_UNITS)


class OfferUpdate(Input):
    """Change price or limits; `null` for a cap or limit removes it."""

    live_price_vnd: int | None = Field(default=None, ge=0, le=MAX_PRICE_VND)
    quantity_cap: int | None = Field(default=None, ge=1, le=MAX_UNITS)
    per_buyer_limit: int | None = Field(default=None, ge=1, le=MAX_UNITS)

    @model_validator(mode="after")
    def _price_not_null(self) -> OfferUpdate:
        if "live_price_vnd" in self.model_fields_set and self.live_price_vnd is None:
            raise ValueError("live_price_vnd cannot be null")
        return self


class OfferRead(Output):
    """An offer with how much of its cap is taken."""

    id: int
    live_session_id: int
    variant_id: int
    sku: str
    live_price_vnd: int
    quantity_cap: int | None
    per_buyer_limit: int | None
    units_claimed: int
    units_remaining: int | None
    created_at: datetime


class PinRequest(Input):
    """The offer to pin; `null` unpins."""

    offer_id: int | None = Field(ge=1, le=MAX_ID)


class OfferStats(Output):
    """One offer's results (cancelled orders excluded)."""

    offer_id: int
    variant_id: int
    sku: str
    live_price_vnd: int
    quantity_cap: int | None
    units_claimed: int
    units_sold: int
    gmv_vnd: int


class LiveStats(Output):
    """A session's results, computed from its orders at the time of asking."""

    live_session_id: int
    status: LiveStatus
    scheduled_start: datetime
    actual_start: datetime | None
    actual_end: datetime | None
    pinned_offer_id: int | None
    orders: int
    units: int
    net_weight_g: int
    kg: float
    gmv_vnd: int
    cancellations: int
    flagged_orders: int
    flags: dict[str, int]
    offers: list[OfferStats]
    title: str = ""
    # Orders (not cancelled) per minute on air: from the start to the end, or to now while live.
    orders_per_minute: float = 0.0
    # The minute (UTC, truncated) with the most orders, and how many.
    peak_minute: datetime | None = None
    peak_minute_orders: int = 0
    # The three offers that sold the most units.
    top_offers: list[OfferStats] = Field(default_factory=list)
