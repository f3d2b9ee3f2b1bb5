"""Products, the variants (SKUs) that are sold, and the stock ledger."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    ARRAY,
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from api.cooperatives.models import cooperative_fk
from api.core.columns import created_at_field, id_field, updated_at_field

# The most units one variant may hold: far beyond any cooperative's store, far inside BIGINT.
MAX_STOCK_LEVEL = 1_000_000_000


class Category(StrEnum):
    """Produce categories the programme reports on."""

    RICE = "rice"
    TEA = "tea"
    COFFEE = "coffee"
    HONEY = "honey"
    GINSENG = "ginseng"
    FRUIT = "fruit"
    VEGETABLES = "vegetables"
    SEAFOOD = "seafood"
    HANDICRAFT = "handicraft"
    OTHER = "other"


class CatalogueStatus(StrEnum):
    """Lifecycle of a product or variant."""

    DRAFT = "draft"
    ACTIVE = "active"
    ARCHIVED = "archived"


class Certification(StrEnum):
    """Certifications shown to buyers (OCOP stars are a separate number)."""

    VIETGAP = "vietgap"
    ORGANIC = "organic"
    GLOBALGAP = "globalgap"


class MovementKind(StrEnum):
    """Why stock moved; every movement is one ledger row."""

    RECEIVED = "received"
    ADJUSTED = "adjusted"
    RESERVED = "reserved"
    RELEASED = "released"
    SHIPPED = "shipped"
    RETURNED = "returned"


def _values(enum: type[StrEnum]) -> str:
    return ", ".join(f"'{m.value}'" for m in enum)


class Product(SQLModel, table=True):
    """What a cooperative lists; the variants are what is sold."""

    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint(f"category IN ({_values(Category)})", name="category_known"),
        CheckConstraint(f"status IN ({_values(CatalogueStatus)})", name="status_known"),
        CheckConstraint("ocop_stars IS NULL OR ocop_stars BETWEEN 1 AND 5", name="ocop_range"),
    )

    id: int | None = id_field()
    cooperative_id: int = Field(sa_column=cooperative_fk())
    name: str = Field(max_length=200)
    description: str = Field(default="", max_length=5000)
    category: str = Field(max_length=32)
    certifications: list[str] = Field(
        default_factory=list,
        sa_column=Column(ARRAY(String(32)), nullable=False, server_default="{}"),
    )
    ocop_stars: int | None = None
    perishable: bool = False
    status: str = Field(default=CatalogueStatus.DRAFT.value, max_length=16)
    # Lower-case, diacritic-free text of name, description and SKUs: what `?q=` searches.
    search_text: str = Field(default="", max_length=10000)
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class Variant(SQLModel, table=True):
    """A sellable SKU: unit, weights in grams, price in whole VND, stock."""

    __tablename__ = "variants"
    __table_args__ = (
        UniqueConstraint("cooperative_id", "sku"),
        CheckConstraint("net_weight_g > 0", name="net_weight_positive"),
        CheckConstraint("shipping_weight_g >= net_weight_g", name="shipping_covers_net"),
        CheckConstraint("price_vnd >= 0", name="price_not_negative"),
        CheckConstraint("stock_reserved >= 0", name="reserved_not_negative"),
        CheckConstraint("stock_on_hand >= stock_reserved", name="stock_covers_reserved"),
        CheckConstraint(f"stock_on_hand <= {MAX_STOCK_LEVEL}", name="stock_within_ceiling"),
        CheckConstraint(f"status IN ({_values(CatalogueStatus)})", name="status_known"),
        Index("ix_variants_product_id", "product_id"),
    )

    id: int | None = id_field()
    product_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("products.id", ondelete="RESTRICT"), nullable=False)
    )
    # Denormalised from the product so SKU uniqueness and tenant filters are one index away.
    cooperative_id: int = Field(sa_column=cooperative_fk())
    sku: str = Field(max_length=64)
    name: str = Field(default="", max_length=200)
    unit_label: str = Field(max_length=64)
    net_weight_g: int = Field(sa_column=Column(Integer, nullable=False))
    shipping_weight_g: int = Field(sa_column=Column(Integer, nullable=False))
    price_vnd: int = Field(sa_column=Column(BigInteger, nullable=False))
    # BIGINT: levels are sums of movements; the ceiling, not the column, bounds them.
    stock_on_hand: int = Field(
        default=0, sa_column=Column(BigInteger, nullable=False, server_default="0")
    )
    stock_reserved: int = Field(
        default=0, sa_column=Column(BigInteger, nullable=False, server_default="0")
    )
    status: str = Field(default=CatalogueStatus.ACTIVE.value, max_length=16)
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class StockMovement(SQLModel, table=True):
    """One row per stock change, with the levels it left behind."""

    __tablename__ = "stock_movements"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_values(MovementKind)})", name="kind_known"),
        Index("ix_stock_movements_variant_id_id", "variant_id", "id"),
    )

    id: int | None = id_field()
    variant_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("variants.id", ondelete="RESTRICT"), nullable=False)
    )
    cooperative_id: int = Field(sa_column=cooperative_fk(index=False))
    kind: str = Field(max_length=16)
    # Signed change of on-hand (received/adjusted/shipped/returned) or reserved (reserved/released).
    quantity: int
    on_hand_after: int = Field(sa_column=Column(BigInteger, nullable=False))
    reserved_after: int = Field(sa_column=Column(BigInteger, nullable=False))
    reason: str = Field(default="", max_length=500)
    order_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    actor_user_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = created_at_field()
