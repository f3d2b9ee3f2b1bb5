"""Request and response bodies for products, variants and stock."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, model_validator

from api.catalogue.models import CatalogueStatus, Category, Certification
from api.core.schemas import Input, Output

SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,63}$"
MAX_STOCK = 10_000_000
MAX_PRICE_VND = 1_000_000_000
MAX_WEIGHT_G = 1_000_000


class VariantCreate(Input):
    """A sellable SKU."""

    sku: str = Field(pattern=SKU_PATTERN)
    name: str = Field(default="", max_length=200)
    unit_label: str = Field(min_length=1, max_length=64, examples=["túi 2 kg"])
    net_weight_g: int = Field(gt=0, le=MAX_WEIGHT_G)
    shipping_weight_g: int = Field(gt=0, le=MAX_WEIGHT_G)
    price_vnd: int = Field(ge=0, le=MAX_PRICE_VND)
    stock_on_hand: int = Field(default=0, ge=0, le=MAX_STOCK)
    status: CatalogueStatus = CatalogueStatus.ACTIVE

    @model_validator(mode="after")
    def _shipping_covers_net(self) -> VariantCreate:
        if self.shipping_weight_g < self.net_weight_g:
            raise ValueError("shipping_weight_g must be at least net_weight_g")
        return self


class VariantUpdate(Input):
    """Variant fields that may change; stock changes go through adjustments."""

    name: str | None = Field(default=None, max_length=200)
    unit_label: str | None = Field(default=None, min_length=1, max_length=64)
    net_weight_g: int | None = Field(default=None, gt=0, le=MAX_WEIGHT_G)
    shipping_weight_g: int | None = Field(default=None, gt=0, le=MAX_WEIGHT_G)
    price_vnd: int | None = Field(default=None, ge=0, le=MAX_PRICE_VND)
    status: CatalogueStatus | None = None


class VariantRead(Output):
    """A variant with its stock levels."""

    id: int
    product_id: int
    cooperative_id: int
    sku: str
    name: str
    unit_label: str
    net_weight_g: int
    shipping_weight_g: int
    price_vnd: int
    stock_on_hand: int
    stock_reserved: int
    stock_available: int
    status: CatalogueStatus


class ProductCreate(Input):
    """A product with its first variants."""

    cooperative_id: int = Field(ge=1)
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5000)
    category: Category
    certifications: list[Certification] = Field(default_factory=list, max_length=5)
    ocop_stars: int | None = Field(default=None, ge=1, le=5)
    perishable: bool = False
    status: CatalogueStatus = CatalogueStatus.DRAFT
    variants: list[VariantCreate] = Field(default_factory=list, max_length=100)


class ProductUpdate(Input):
    """Product fields that may change."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    category: Category | None = None
    certifications: list[Certification] | None = Field(default=None, max_length=5)
    ocop_stars: int | None = Field(default=None, ge=1, le=5)
    perishable: bool | None = None
    status: CatalogueStatus | None = None


class ProductRead(Output):
    """A product and its variants."""

    id: int
    cooperative_id: int
    name: str
    description: str
    category: Category
    certifications: list[str]
    ocop_stars: int | None
    perishable: bool
    status: CatalogueStatus
    variants: list[VariantRead]
    created_at: datetime
    updated_at: datetime


class StockAdjustment(Input):
    """Goods received (positive) or a count correction (signed)."""

    kind: Literal["received", "adjusted"]
    quantity: int = Field(ge=-MAX_STOCK, le=MAX_STOCK)
    reason: str = Field(default="", max_length=500)

    @model_validator(mode="after")
    def _sign_fits_kind(self) -> StockAdjustment:
        if self.quantity == 0:
            raise ValueError("quantity must not be 0")
        if self.kind == "received" and self.quantity < 0:
            raise ValueError("received stock is positive; use kind=adjusted to correct a count")
        return self


class StockMovementRead(Output):
    """One ledger row."""

    id: int
    variant_id: int
    kind: str
    quantity: int
    on_hand_after: int
    reserved_after: int
    reason: str
    order_id: int | None
    actor_user_id: int | None
    created_at: datetime
