"""What a buyer sends to start a direct checkout, and what they get back."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from api.core.schemas import NO_NUL

MAX_ID = 2**63 - 1  # BIGINT ids


class CheckoutLineIn(BaseModel):
    """One variant and how many units of it."""

    model_config = ConfigDict(extra="forbid")

    variant_id: int = Field(ge=1, le=MAX_ID)
    quantity: int = Field(ge=1, le=99)


class BuyerIn(BaseModel):
    """Who receives the parcel, at a 2025 two-tier address (province, then commune/ward)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    phone: str = Field(min_length=9, max_length=20, pattern=NO_NUL)
    province: str = Field(min_length=1, max_length=100, pattern=NO_NUL)
    ward: str = Field(min_length=1, max_length=100, pattern=NO_NUL)
    street: str = Field(min_length=1, max_length=500, pattern=NO_NUL)
    note: str = Field(default="", max_length=500, pattern=NO_NUL)


class CheckoutIn(BaseModel):
    """A direct purchase from one cooperative (optionally during one of its live sessions)."""

    model_config = ConfigDict(extra="forbid")

    cooperative_id: int = Field(ge=1, le=MAX_ID)
    live_session_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    lines: list[CheckoutLineIn] = Field(min_length=1, max_length=50)
    buyer: BuyerIn


class CheckoutOut(BaseModel):
    """Where to send the buyer to pay, and until when the stock is held."""

    order_reference: str
    checkout_url: str
    expires_at: datetime
    amount_vnd: int


class BuyableProductOut(BaseModel):
    """A variant the buy page offers (the live price while the session is live)."""

    model_config = ConfigDict(from_attributes=True)

    variant_id: int
    product_id: int
    name: str
    unit: str
    price_vnd: int
    regular_price_vnd: int
    available: int
    live_offer_id: int | None = None
    per_buyer_limit: int | None = None
