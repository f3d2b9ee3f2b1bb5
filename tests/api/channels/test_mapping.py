"""The lookups order ingestion uses: shop -> connection, platform SKU -> variant, in two queries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from api.catalogue.schemas import ProductCreate
from api.catalogue.service import create_product
from api.channels.mapping import find_connection, resolve_variants
from api.channels.models import ChannelConnection, SkuMapping
from api.core.db import Database
from tests.api.channels.conftest import Shops


@contextmanager
def counting_statements(db: Database) -> Iterator[list[str]]:
    """Record every SQL statement the engine sends while the block runs."""
    sent: list[str] = []

    def record(*args: Any) -> None:
        sent.append(args[2])

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)


async def _variants(db: Database, cooperative_id: int, skus: list[str]) -> dict[str, int]:
    """A product of `cooperative_id` with one variant per SKU; returns sku -> variant id."""
    spec = ProductCreate.model_validate({
        "cooperative_id": cooperative_id, "name": "Chè Shan tuyết", "category": "tea",
        "variants": [{"sku": s, "unit_label": "hộp 100 g", "net_weight_g": 100,
                      "shipping_weight_g": 150, "price_vnd": 95000} for s in skus],
    })  # fmt: skip
    async with db.session() as session:
        product = await create_product(session, None, spec)
        await session.commit()
    return {v.sku: v.id for v in product.variants}


async def _connection(db: Database, connection_id: int) -> ChannelConnection:
    async with db.session() as session:
        connection = await session.get(ChannelConnection, connection_id)
        assert connection is not None
        return connection


async def test_find_connection_by_platform_and_shop(shops: Shops, db: Database) -> None:
    mine = await _connection(db, shops.conn_a)
    async with db.session() as session:
        found = await find_connection(session, "tiktok_shop", mine.shop_id)
        assert found is not None
        assert found.id == shops.conn_a
        assert await find_connection(session, "shopee", mine.shop_id) is None
        assert await find_connection(session, "tiktok_shop", "0") is None


async def test_mapping_first_then_seller_sku_ignoring_case(shops: Shops, db: Database) -> None:
    ours = await _variants(db, shops.world.coop_a, ["CHE-100", "CHE-200", "mix", "MIX"])
    theirs = await _variants(db, shops.world.coop_b, ["CAFE-1"])
    async with db.session() as session:
        session.add(SkuMapping(channel_connection_id=shops.conn_a, cooperative_id=shops.world.coop_a,
                               platform_sku_id="P-MAPPED", variant_id=ours["CHE-200"]))  # fmt: skip
        await session.commit()
    connection = await _connection(db, shops.conn_a)
    pairs = [
        ("P-MAPPED", "CHE-100"),  # explicit mapping beats the seller SKU
        ("P-FOLDED", "che-100"),  # seller SKU, case-insensitive
        ("P-EXACT", "MIX"),  # "mix" and "MIX" both exist: the exact one
        ("P-AMBIGUOUS", "Mix"),  # neither is exact: left unmapped, not guessed
        ("P-THEIRS", "CAFE-1"),  # another cooperative's SKU never matches
        ("P-EMPTY", ""),
        ("P-UNKNOWN", "NOPE"),
        ("P-FOLDED", "che-100"),  # repeated lines of one SKU
    ]
    async with db.session() as session:
        with counting_statements(db) as sent:
            resolved = await resolve_variants(session, connection, pairs)
    found = {k: (v.id if v is not None else None) for k, v in resolved.items()}
    assert found == {
        "P-MAPPED": ours["CHE-200"], "P-FOLDED": ours["CHE-100"], "P-EXACT": ours["MIX"],
        "P-AMBIGUOUS": None, "P-THEIRS": None, "P-EMPTY": None, "P-UNKNOWN": None,
    }  # fmt: skip
    assert theirs["CAFE-1"] not in found.values()
    assert len(sent) == 2, sent


async def test_all_mapped_needs_one_query_and_nothing_needs_none(
    shops: Shops, db: Database
) -> None:
    connection = await _connection(db, shops.conn_a)
    variant = shops.variant("own")
    async with db.session() as session:
        for n in range(20):
            session.add(SkuMapping(channel_connection_id=shops.conn_a,
                                   cooperative_id=shops.world.coop_a,
                                   platform_sku_id=f"P-{n}", variant_id=variant))  # fmt: skip
        await session.commit()
    async with db.session() as session:
        with counting_statements(db) as sent:
            resolved = await resolve_variants(
                session, connection, [(f"P-{n}", "") for n in range(20)]
            )
            assert await resolve_variants(session, connection, []) == {}
    assert {v.id for v in resolved.values() if v is not None} == {variant}
    assert len(sent) == 1
