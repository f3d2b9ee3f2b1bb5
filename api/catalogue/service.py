"""Products and variants: create, search, read and change, scoped to the actor."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, func, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.accounts.scope import Actor
from api.catalogue.models import MovementKind, Product, StockMovement, Variant
from api.catalogue.schemas import (
    ProductCreate,
    ProductRead,
    ProductUpdate,
    VariantCreate,
    VariantRead,
    VariantUpdate,
)
from api.cooperatives.models import Cooperative
from api.cooperatives.service import get_cooperative, visible_cooperatives
from api.core.db import utcnow
from api.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from api.core.text import fold


def search_text(product: Product, variants: Sequence[Variant]) -> str:
    """What `?q=` matches: name, category, description, SKUs and variant names, folded."""
    parts = [product.name, product.category, product.description]
    for variant in variants:
        parts += [variant.sku, variant.name, variant.unit_label]
    return fold(" ".join(parts))[:10000]


def _like_escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_clause(q: str) -> Any:
    """Every folded word of `q` must appear in the product's search text."""
    words = fold(q).split()[:10]
    return and_(
        true(),
        *(col(Product.search_text).like(f"%{_like_escape(w)}%") for w in words),
    )


def variant_read(variant: Variant) -> VariantRead:
    """A variant with its computed available stock."""
    data = variant.model_dump()
    data["stock_available"] = variant.stock_on_hand - variant.stock_reserved
    return VariantRead.model_validate(data)


def product_read(product: Product, variants: Sequence[Variant]) -> ProductRead:
    """A product with its variants as the API shows them."""
    data = product.model_dump()
    data["variants"] = [variant_read(v) for v in variants]
    return ProductRead.model_validate(data)


async def _require_manager(session: AsyncSession, actor: Actor | None, cooperative_id: int) -> None:
    if actor is None:
        if await session.get(Cooperative, cooperative_id) is None:
            raise NotFound("cooperative")
        return
    await get_cooperative(session, actor, cooperative_id)
    if not actor.can_manage_catalogue(cooperative_id):
        raise Forbidden("only admins and this cooperative's coop admins change its catalogue")


async def _insert_variants(
    session: AsyncSession, product: Product, items: Sequence[VariantCreate], actor_id: int | None
) -> list[Variant]:
    assert product.id is not None
    variants = [
        Variant(product_id=product.id, cooperative_id=product.cooperative_id, **item.model_dump())
        for item in items
    ]
    session.add_all(variants)
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict("a SKU in this request already exists in this cooperative") from None
    for variant in variants:
        if variant.stock_on_hand:
            assert variant.id is not None
            session.add(
                StockMovement(
                    variant_id=variant.id,
                    cooperative_id=variant.cooperative_id,
                    kind=MovementKind.RECEIVED.value,
                    quantity=variant.stock_on_hand,
                    on_hand_after=variant.stock_on_hand,
                    reserved_after=0,
                    reason="opening stock",
                    actor_user_id=actor_id,
                )
            )
    return variants


async def create_product(
    session: AsyncSession, actor: Actor | None, data: ProductCreate
) -> ProductRead:
    """Create a product and its variants in one go (all or nothing)."""
    await _require_manager(session, actor, data.cooperative_id)
    skus = [v.sku for v in data.variants]
    if len(set(skus)) != len(skus):
        raise Conflict("the same SKU appears twice in this product")
    fields = data.model_dump(exclude={"variants"}, mode="json")
    product = Product(**fields)
    session.add(product)
    await session.flush()
    variants = await _insert_variants(
        session, product, data.variants, actor.user_id if actor else None
    )
    product.search_text = search_text(product, variants)
    await session.flush()
    return product_read(product, variants)


async def variants_of(
    session: AsyncSession, product_ids: Sequence[int]
) -> dict[int, list[Variant]]:
    """Variants of several products at once, by product id."""
    grouped: dict[int, list[Variant]] = {pid: [] for pid in product_ids}
    if product_ids:
        rows = await session.execute(
            select(Variant)
            .where(col(Variant.product_id).in_(product_ids))
            .order_by(col(Variant.id))
        )
        for variant in rows.scalars():
            grouped[variant.product_id].append(variant)
    return grouped


def _visible_products(actor: Actor) -> Any:
    return col(Product.cooperative_id).in_(
        select(col(Cooperative.id)).where(visible_cooperatives(actor))
    )


async def get_product_row(session: AsyncSession, actor: Actor, product_id: int) -> Product:
    """A product the actor may see, else NotFound."""
    product = (
        await session.execute(
            select(Product).where(col(Product.id) == product_id, _visible_products(actor))
        )
    ).scalar_one_or_none()
    if product is None:
        raise NotFound("product")
    return product


async def get_product(session: AsyncSession, actor: Actor, product_id: int) -> ProductRead:
    """A product with its variants."""
    product = await get_product_row(session, actor, product_id)
    return product_read(product, (await variants_of(session, [product_id]))[product_id])


async def list_products(
    session: AsyncSession,
    actor: Actor,
    *,
    limit: int,
    offset: int,
    q: str | None = None,
    cooperative_id: int | None = None,
    category: str | None = None,
    status: str | None = None,
) -> tuple[list[ProductRead], int]:
    """Products in scope, filtered and searched ignoring case and diacritics."""
    query = select(Product).where(_visible_products(actor))
    if q:
        query = query.where(search_clause(q))
    if cooperative_id is not None:
        query = query.where(col(Product.cooperative_id) == cooperative_id)
    if category is not None:
        query = query.where(col(Product.category) == category)
    if status is not None:
        query = query.where(col(Product.status) == status)
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = await session.execute(query.order_by(col(Product.id)).limit(limit).offset(offset))
    products = list(rows.scalars())
    grouped = await variants_of(session, [p.id for p in products if p.id is not None])
    return [product_read(p, grouped[p.id]) for p in products if p.id is not None], int(total)


async def update_product(
    session: AsyncSession, actor: Actor, product_id: int, data: ProductUpdate
) -> ProductRead:
    """Change a product's fields."""
    product = await get_product_row(session, actor, product_id)
    await _require_manager(session, actor, product.cooperative_id)
    for key, value in data.model_dump(exclude_unset=True, mode="json").items():
        if value is None and key in ("name", "category", "status", "perishable", "description"):
            continue
        setattr(product, key, value)
    variants = (await variants_of(session, [product_id]))[product_id]
    product.search_text = search_text(product, variants)
    product.updated_at = utcnow()
    await session.flush()
    return product_read(product, variants)


async def add_variant(
    session: AsyncSession, actor: Actor, product_id: int, data: VariantCreate
) -> VariantRead:
    """Add a SKU to a product."""
    product = await get_product_row(session, actor, product_id)
    await _require_manager(session, actor, product.cooperative_id)
    (variant,) = await _insert_variants(session, product, [data], actor.user_id)
    variants = (await variants_of(session, [product_id]))[product_id]
    product.search_text = search_text(product, variants)
    await session.flush()
    return variant_read(variant)


async def get_variant_row(
    session: AsyncSession, actor: Actor, product_id: int, variant_id: int
) -> Variant:
    """A variant of a product the actor may see, else NotFound."""
    await get_product_row(session, actor, product_id)
    variant = await session.get(Variant, variant_id)
    if variant is None or variant.product_id != product_id:
        raise NotFound("variant")
    return variant


async def update_variant(
    session: AsyncSession, actor: Actor, product_id: int, variant_id: int, data: VariantUpdate
) -> VariantRead:
    """Change a variant's descriptive fields or price (stock goes through adjustments)."""
    variant = await get_variant_row(session, actor, product_id, variant_id)
    await _require_manager(session, actor, variant.cooperative_id)
    changes = {
        k: v for k, v in data.model_dump(exclude_unset=True, mode="json").items() if v is not None
    }
    net = changes.get("net_weight_g", variant.net_weight_g)
    if changes.get("shipping_weight_g", variant.shipping_weight_g) < net:
        raise Unprocessable("shipping_weight_g must be at least net_weight_g", "shipping_weight_g")
    for key, value in changes.items():
        setattr(variant, key, value)
    variant.updated_at = utcnow()
    await session.flush()
    return variant_read(variant)
