"""/api/v1/products: catalogue, variants and stock."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from api.catalogue import service, stock
from api.catalogue.models import CatalogueStatus, Category
from api.catalogue.schemas import (
    ProductCreate,
    ProductRead,
    ProductUpdate,
    StockAdjustment,
    StockMovementRead,
    VariantCreate,
    VariantRead,
    VariantUpdate,
)
from api.core.deps import MAX_ID, CurrentActor, CursorPaging, Id, Paging, SessionDep
from api.core.paging import CursorPage
from api.core.schemas import NO_NUL, Page

router = APIRouter(prefix="/products", tags=["products"])


@router.get("", response_model=Page[ProductRead])
async def list_products(
    session: SessionDep,
    actor: CurrentActor,
    paging: Paging,
    q: Annotated[
        str | None, Query(max_length=200, pattern=NO_NUL, description="ignores case and diacritics")
    ] = None,
    cooperative_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    category: Category | None = None,
    status_: Annotated[CatalogueStatus | None, Query(alias="status")] = None,
) -> Page[ProductRead]:
    """Products in scope; `?q=gao st25` finds "Gạo ST25"."""
    items, total = await service.list_products(
        session,
        actor,
        limit=paging.limit,
        offset=paging.offset,
        q=q,
        cooperative_id=cooperative_id,
        category=category.value if category else None,
        status=status_.value if status_ else None,
    )
    return Page(items=items, total=total, limit=paging.limit, offset=paging.offset)


@router.post("", response_model=ProductRead, status_code=status.HTTP_201_CREATED)
async def create_product(
    session: SessionDep, actor: CurrentActor, body: ProductCreate
) -> ProductRead:
    """Create a product with its variants."""
    product = await service.create_product(session, actor, body)
    await session.commit()
    return product


@router.get("/{product_id}", response_model=ProductRead)
async def read_product(product_id: Id, session: SessionDep, actor: CurrentActor) -> ProductRead:
    """One product with its variants."""
    return await service.get_product(session, actor, product_id)


@router.patch("/{product_id}", response_model=ProductRead)
async def update_product(
    product_id: Id, session: SessionDep, actor: CurrentActor, body: ProductUpdate
) -> ProductRead:
    """Change a product."""
    product = await service.update_product(session, actor, product_id, body)
    await session.commit()
    return product


@router.post(
    "/{product_id}/variants", response_model=VariantRead, status_code=status.HTTP_201_CREATED
)
async def add_variant(
    product_id: Id, session: SessionDep, actor: CurrentActor, body: VariantCreate
) -> VariantRead:
    """Add a SKU to a product."""
    variant = await service.add_variant(session, actor, product_id, body)
    await session.commit()
    return variant


@router.patch("/{product_id}/variants/{variant_id}", response_model=VariantRead)
async def update_variant(
    product_id: Id, variant_id: Id, session: SessionDep, actor: CurrentActor, body: VariantUpdate
) -> VariantRead:
    """Change a SKU's descriptive fields or price."""
    variant = await service.update_variant(session, actor, product_id, variant_id, body)
    await session.commit()
    return variant


@router.post("/{product_id}/variants/{variant_id}/stock-adjustments", response_model=VariantRead)
async def adjust_stock(
    product_id: Id,
    variant_id: Id,
    session: SessionDep,
    actor: CurrentActor,
    body: StockAdjustment,
) -> VariantRead:
    """Record goods received or a corrected count (one ledger row)."""
    variant = await stock.adjust_stock(session, actor, product_id, variant_id, body)
    await session.commit()
    return variant


@router.get(
    "/{product_id}/variants/{variant_id}/stock-movements",
    response_model=CursorPage[StockMovementRead],
)
async def list_stock_movements(
    product_id: Id, variant_id: Id, session: SessionDep, actor: CurrentActor, paging: CursorPaging
) -> CursorPage[StockMovementRead]:
    """The stock ledger of one SKU, newest first, a page at a time."""
    rows, total, capped, cursor = await stock.list_movements(
        session, actor, product_id, variant_id, paging
    )
    return CursorPage[StockMovementRead](
        items=[StockMovementRead.model_validate(r) for r in rows],
        total=total,
        limit=paging.limit,
        offset=paging.offset,
        next_cursor=cursor,
        total_capped=capped,
    )
