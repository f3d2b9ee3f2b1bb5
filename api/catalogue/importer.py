"""Bulk catalogue import from CSV: validate every row first, import all or nothing.

Rows sharing a product_name become one product with several variants. Errors name the CSV
line (the header is line 1) and the column, so a cooperative can fix the file in a spreadsheet.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.catalogue.models import Variant
from api.catalogue.schemas import ProductCreate, VariantCreate
from api.catalogue.service import create_product

REQUIRED_COLUMNS = (
    "product_name", "category", "sku", "unit_label", "net_weight_g", "shipping_weight_g",
    "price_vnd",
)  # fmt: skip
OPTIONAL_COLUMNS = (
    "variant_name", "description", "stock_on_hand", "certifications", "ocop_stars", "perishable",
    "status",
)  # fmt: skip
MAX_ROWS = 50_000


@dataclass(frozen=True)
class RowError:
    """What is wrong with one line of the file."""

    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.column}: {self.message}"


@dataclass
class ParsedCatalogue:
    """Products ready to create, or the errors that stop the import."""

    products: list[ProductCreate] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0
    sku_lines: dict[str, int] = field(default_factory=dict)


def _blank_to_none(row: dict[str, str | None]) -> dict[str, str]:
    return {k.strip(): (v or "").strip() for k, v in row.items() if k and (v or "").strip()}


def _variant(row: dict[str, str]) -> dict[str, Any]:
    keys = ("sku", "unit_label", "net_weight_g", "shipping_weight_g", "price_vnd", "stock_on_hand")
    data: dict[str, Any] = {k: row[k] for k in keys if k in row}
    if "variant_name" in row:
        data["name"] = row["variant_name"]
    return data


def _product(row: dict[str, str], cooperative_id: int) -> dict[str, Any]:
    data: dict[str, Any] = {
        "cooperative_id": cooperative_id,
        "name": row.get("product_name", ""),
        "category": row.get("category", ""),
        "description": row.get("description", ""),
        "status": row.get("status", "active"),
        "perishable": row.get("perishable", "false").lower() in ("1", "true", "yes", "có", "x"),
        "certifications": [
            c.strip().lower() for c in row.get("certifications", "").split(";") if c.strip()
        ],
    }
    if "ocop_stars" in row:
        data["ocop_stars"] = row["ocop_stars"]
    return data


def _errors_of(exc: ValidationError, line: int, renames: dict[str, str]) -> list[RowError]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"] if not isinstance(p, int)]
        column = loc[-1] if loc else "row"
        out.append(RowError(line, renames.get(column, column), err["msg"]))
    return out


def parse_catalogue(text: str, cooperative_id: int) -> ParsedCatalogue:
    """Validate a whole CSV file; products are grouped by product_name."""
    result = ParsedCatalogue()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        result.errors.append(RowError(1, ", ".join(missing), "required column missing"))
        return result
    groups: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {}
    seen_skus = result.sku_lines
    for line, raw in enumerate(reader, start=2):
        result.rows += 1
        if result.rows > MAX_ROWS:
            result.errors.append(
                RowError(line, "row", f"more than {MAX_ROWS} rows; split the file")
            )
            break
        row = _blank_to_none(raw)
        sku = row.get("sku", "")
        if sku in seen_skus:
            result.errors.append(RowError(line, "sku", f"{sku} already on line {seen_skus[sku]}"))
            continue
        seen_skus[sku] = line
        row_errors: list[RowError] = []
        try:
            VariantCreate.model_validate(_variant(row))
        except ValidationError as exc:
            row_errors += _errors_of(exc, line, {"name": "variant_name"})
        try:
            product = ProductCreate.model_validate(_product(row, cooperative_id)).model_dump()
        except ValidationError as exc:
            row_errors += _errors_of(exc, line, {"name": "product_name"})
        if row_errors:
            result.errors += row_errors
            continue
        name = product["name"]
        groups.setdefault(name, (product, []))[1].append({**_variant(row), "_line": line})
    if not result.errors:
        for product, variants in groups.values():
            product["variants"] = [
                {k: v for k, v in var.items() if k != "_line"} for var in variants
            ]
            result.products.append(ProductCreate.model_validate(product))
    result.errors.sort(key=lambda e: e.line)
    return result


async def existing_skus(
    session: AsyncSession, cooperative_id: int, skus: Iterable[str]
) -> set[str]:
    """Which of these SKUs the cooperative already has."""
    rows = await session.execute(
        select(col(Variant.sku)).where(
            col(Variant.cooperative_id) == cooperative_id, col(Variant.sku).in_(list(skus))
        )
    )
    return set(rows.scalars())


async def clashing_rows(
    session: AsyncSession, parsed: ParsedCatalogue, cooperative_id: int
) -> list[RowError]:
    """Rows whose SKU the cooperative already has (the import would create duplicates)."""
    clash = await existing_skus(session, cooperative_id, parsed.sku_lines)
    return sorted(
        (
            RowError(parsed.sku_lines[sku], "sku", f"{sku} already exists in this cooperative")
            for sku in clash
        ),
        key=lambda e: e.line,
    )


async def import_catalogue(
    session: AsyncSession,
    parsed: ParsedCatalogue,
    on_product: Callable[[], None] = lambda: None,
) -> int:
    """Create every parsed product in the caller's transaction; return how many."""
    for product in parsed.products:
        await create_product(session, None, product)
        on_product()
    return len(parsed.products)
