"""CSV catalogue import through the real CLI: all rows or none, errors by line number."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from api.catalogue.importer import parse_catalogue
from api.catalogue.models import Product, Variant
from api.core.config import Settings
from api.core.db import Database
from tests.factories import World

HEADER = (
    "product_name,category,sku,variant_name,unit_label,net_weight_g,shipping_weight_g,"
    "price_vnd,stock_on_hand,certifications,ocop_stars,perishable\n"
)
GOOD = HEADER + (
    "Gạo Séng Cù,rice,SC-2,2 kg,túi 2 kg,2000,2100,70000,100,vietgap,4,false\n"
    "Gạo Séng Cù,rice,SC-5,5 kg,túi 5 kg,5000,5200,165000,50,vietgap,4,false\n"
    "Mật ong hoa rừng,honey,MO-500,,hũ 500 g,500,800,220000,30,organic;vietgap,,false\n"
    "Khoai lang,vegetables,KL-3,,thùng 3 kg,3000,3300,60000,0,,,true\n"
)
BAD = HEADER + (
    "Gạo Séng Cù,rice,SC-2,2 kg,túi 2 kg,2000,2100,70000,100,vietgap,4,false\n"
    "Chè,tea-leaves,CHE-1,,hộp,200,300,150000,5,,,false\n"
    "Mật ong,honey,MO-500,,hũ 500 g,500,400,220000,30,,,false\n"
    "Gạo,rice,SC-2,,túi,1000,1100,1000,1,,,false\n"
    "Sâm,ginseng,SAM-1,,hộp,abc,300,-5,1,,9,false\n"
)


async def _run_cli(settings: Settings, *args: str) -> tuple[int, str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url or "",
        "REDIS_URL": settings.redis_url or "",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "workers.cli", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    return proc.returncode or 0, out.decode(), err.decode()


async def _counts(db: Database, coop: int) -> tuple[int, int]:
    async with db.session() as session:
        products = await session.execute(
            select(func.count()).select_from(Product).where(col(Product.cooperative_id) == coop)
        )
        variants = await session.execute(
            select(func.count()).select_from(Variant).where(col(Variant.cooperative_id) == coop)
        )
    return int(products.scalar_one()), int(variants.scalar_one())


@pytest.mark.pure
def test_parse_groups_rows_into_products() -> None:
    parsed = parse_catalogue(GOOD, cooperative_id=1)
    assert parsed.errors == []
    assert [(p.name, len(p.variants)) for p in parsed.products] == [
        ("Gạo Séng Cù", 2),
        ("Mật ong hoa rừng", 1),
        ("Khoai lang", 1),
    ]
    assert parsed.products[1].certifications == ["organic", "vietgap"]
    assert parsed.products[2].perishable is True


@pytest.mark.pure
def test_parse_reports_every_bad_row_by_line() -> None:
    errors = parse_catalogue(BAD, cooperative_id=1).errors
    lines = {(e.line, e.column) for e in errors}
    assert (3, "category") in lines
    assert (4, "row") in lines or any(e.line == 4 for e in errors)  # shipping < net weight
    assert (5, "sku") in lines  # duplicate of line 2
    assert {(6, "net_weight_g"), (6, "price_vnd"), (6, "ocop_stars")} <= lines
    assert all(e.line != 2 for e in errors)


@pytest.mark.pure
def test_missing_columns_are_reported_on_the_header_line() -> None:
    errors = parse_catalogue("product_name,sku\nGạo,SC-1\n", cooperative_id=1).errors
    assert errors[0].line == 1
    assert "category" in errors[0].column


async def test_cli_imports_a_good_file(
    tmp_path: Path, settings: Settings, world: World, db: Database
) -> None:
    path = tmp_path / "catalogue.csv"
    path.write_text(GOOD, encoding="utf-8")
    code, _, err = await _run_cli(
        settings, "import-products", str(path), "--cooperative", str(world.coop_a)
    )
    assert code == 0, err
    assert "imported 3 product(s)" in err
    assert await _counts(db, world.coop_a) == (4, 5)  # the world's own product + 3 imported


async def test_cli_imports_nothing_from_a_file_with_errors(
    tmp_path: Path, settings: Settings, world: World, db: Database
) -> None:
    path = tmp_path / "catalogue.csv"
    path.write_text(BAD, encoding="utf-8")
    code, _, err = await _run_cli(
        settings, "import-products", str(path), "--cooperative", str(world.coop_a)
    )
    assert code == 1
    assert "line 3, category" in err
    assert "nothing imported" in err
    assert await _counts(db, world.coop_a) == (1, 1)


async def test_cli_refuses_skus_the_cooperative_already_has(
    tmp_path: Path, settings: Settings, world: World, db: Database
) -> None:
    existing = world.product_a.variants[0].sku
    path = tmp_path / "catalogue.csv"
    path.write_text(
        HEADER + f"Gạo,rice,{existing},,túi,1000,1100,1000,1,,,false\n", encoding="utf-8"
    )
    code, _, err = await _run_cli(
        settings, "import-products", str(path), "--cooperative", str(world.coop_a)
    )
    assert code == 1
    assert f"line 2, sku: {existing} already exists" in err
    assert await _counts(db, world.coop_a) == (1, 1)
