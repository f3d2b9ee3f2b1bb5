"""Platform SKU -> our variant: the mappings people manage, and the lookups order ingestion uses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.accounts.scope import Actor
from api.catalogue.models import Variant
from api.channels.models import ChannelConnection, SkuMapping
from api.channels.schemas import SkuMappingCreate, SkuMappingRead, UnmappedSku
from api.channels.service import get_connection_row, require_manager
from api.core.errors import Conflict, NotFound, Unprocessable
from api.orders.models import Order, OrderLine


async def find_connection(
    session: AsyncSession, platform: str, shop_id: str
) -> ChannelConnection | None:
    """The connection of this shop on this platform, whatever its status, or None."""
    query = select(ChannelConnection).where(
        col(ChannelConnection.platform) == platform, col(ChannelConnection.shop_id) == shop_id
    )
    return (await session.execute(query)).scalar_one_or_none()


async def resolve_variants(
    session: AsyncSession, connection: ChannelConnection, skus: Sequence[tuple[str, str]]
) -> dict[str, Variant | None]:
    """Map (platform_sku_id, seller_sku) pairs to variants: explicit mapping, then seller SKU."""
    seller_of: dict[str, str] = {}
    for platform_sku_id, seller_sku in skus:
        if not seller_of.get(platform_sku_id):
            seller_of[platform_sku_id] = seller_sku.strip()
    resolved: dict[str, Variant | None] = dict.fromkeys(seller_of)
    if not seller_of:
        return resolved
    resolved.update(await _mapped_variants(session, connection, list(seller_of)))
    wanted = {k: s for k, s in seller_of.items() if resolved[k] is None and s}
    if wanted:
        candidates = await _variants_by_folded_sku(
            session, connection.cooperative_id, set(wanted.values())
        )
        for platform_sku_id, seller_sku in wanted.items():
            resolved[platform_sku_id] = _pick(candidates.get(seller_sku.lower(), []), seller_sku)
    return resolved


async def _mapped_variants(
    session: AsyncSession, connection: ChannelConnection, platform_sku_ids: list[str]
) -> dict[str, Variant]:
    rows = await session.execute(
        select(col(SkuMapping.platform_sku_id), Variant)
        .join(Variant, col(Variant.id) == col(SkuMapping.variant_id))
        .where(
            col(SkuMapping.channel_connection_id) == connection.id,
            col(SkuMapping.platform_sku_id).in_(platform_sku_ids),
            # Defence in depth: a mapping never crosses cooperatives, even if a row says so.
            col(Variant.cooperative_id) == connection.cooperative_id,
        )
    )
    return {row[0]: row[1] for row in rows}


async def _variants_by_folded_sku(
    session: AsyncSession, cooperative_id: int, seller_skus: set[str]
) -> dict[str, list[Variant]]:
    folded = {s.lower() for s in seller_skus}
    rows = await session.execute(
        select(Variant).where(
            col(Variant.cooperative_id) == cooperative_id,
            func.lower(col(Variant.sku)).in_(folded),
        )
    )
    grouped: dict[str, list[Variant]] = {}
    for variant in rows.scalars():
        grouped.setdefault(variant.sku.lower(), []).append(variant)
    return grouped


def _pick(candidates: list[Variant], seller_sku: str) -> Variant | None:
    # UNIQUE(cooperative_id, sku) is case-sensitive, so "st25-5kg" and "ST25-5KG" may both exist:
    # an exact match wins, and a tie is left unmapped (flagged for a person) rather than guessed.
    exact = [v for v in candidates if v.sku == seller_sku]
    if exact:
        return exact[0]
    return candidates[0] if len(candidates) == 1 else None


def _mapping_read(mapping: SkuMapping, variant_sku: str) -> SkuMappingRead:
    return SkuMappingRead.model_validate({**mapping.model_dump(), "variant_sku": variant_sku})


async def list_mappings(
    session: AsyncSession, actor: Actor, connection_id: int, limit: int, offset: int
) -> tuple[list[SkuMappingRead], int]:
    """The SKU mappings of one connection the actor may see, oldest first."""
    await get_connection_row(session, actor, connection_id)
    mine = col(SkuMapping.channel_connection_id) == connection_id
    total = (
        await session.execute(select(func.count()).select_from(SkuMapping).where(mine))
    ).scalar_one()
    rows = await session.execute(
        select(SkuMapping, col(Variant.sku))
        .join(Variant, col(Variant.id) == col(SkuMapping.variant_id))
        .where(mine)
        .order_by(col(SkuMapping.id))
        .limit(limit)
        .offset(offset)
    )
    return [_mapping_read(m, sku) for m, sku in rows], int(total)


async def create_mapping(
    session: AsyncSession, actor: Actor, connection_id: int, data: SkuMappingCreate
) -> SkuMappingRead:
    """Map a platform SKU to a variant of the same cooperative.

    Orders already stored keep their unmapped lines: nothing is back-filled here (a later concern);
    the mapping applies to orders ingested or re-ingested from now on.
    """
    connection = await get_connection_row(session, actor, connection_id)
    await require_manager(session, actor, connection.cooperative_id)
    variant = await session.get(Variant, data.variant_id)
    if variant is None or variant.cooperative_id != connection.cooperative_id:
        # One answer for "no such variant" and "another cooperative's": ids are not an oracle.
        raise Unprocessable("no such variant in this connection's cooperative", field="variant_id")
    assert connection.id is not None
    mapping = SkuMapping(
        channel_connection_id=connection.id,
        cooperative_id=connection.cooperative_id,
        platform_sku_id=data.platform_sku_id,
        variant_id=data.variant_id,
    )
    session.add(mapping)
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict("this platform SKU is already mapped on this connection") from None
    return _mapping_read(mapping, variant.sku)


async def delete_mapping(
    session: AsyncSession, actor: Actor, connection_id: int, mapping_id: int
) -> None:
    """Remove one mapping of a connection (lines already mapped keep their variant)."""
    connection = await get_connection_row(session, actor, connection_id)
    await require_manager(session, actor, connection.cooperative_id)
    deleted = await session.execute(
        delete(SkuMapping)
        .where(
            col(SkuMapping.id) == mapping_id,
            col(SkuMapping.channel_connection_id) == connection_id,
        )
        .returning(col(SkuMapping.id))
    )
    if deleted.scalar_one_or_none() is None:
        raise NotFound("sku mapping")


def _unmapped_query(connection_id: int) -> tuple[Any, Any]:
    last_seen = func.max(func.coalesce(col(Order.placed_at), col(Order.created_at)))
    mapped = select(col(SkuMapping.platform_sku_id)).where(
        col(SkuMapping.channel_connection_id) == connection_id
    )
    query = (
        select(
            col(OrderLine.platform_sku_id),
            func.max(col(OrderLine.seller_sku)).label("seller_sku"),
            func.max(col(OrderLine.name)).label("name"),
            func.count(func.distinct(col(Order.id))).label("orders"),
            func.sum(col(OrderLine.quantity)).label("units"),
            last_seen.label("last_seen_at"),
        )
        .join(Order, col(Order.id) == col(OrderLine.order_id))
        .where(
            col(Order.channel_connection_id) == connection_id,
            col(OrderLine.variant_id).is_(None),
            # Mapped since, but not back-filled: the mapping answers it, so it leaves the list.
            col(OrderLine.platform_sku_id).not_in(mapped),
        )
        .group_by(col(OrderLine.platform_sku_id))
    )
    return query, last_seen


async def list_unmapped_skus(
    session: AsyncSession, actor: Actor, connection_id: int, limit: int, offset: int
) -> tuple[list[UnmappedSku], int]:
    """Platform SKUs in this connection's order lines that have no variant and no mapping."""
    await get_connection_row(session, actor, connection_id)
    query, last_seen = _unmapped_query(connection_id)
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = await session.execute(
        query.order_by(last_seen.desc(), col(OrderLine.platform_sku_id)).limit(limit).offset(offset)
    )
    return [UnmappedSku.model_validate(dict(row)) for row in rows.mappings()], int(total)
