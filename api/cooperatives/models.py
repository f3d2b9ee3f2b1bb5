"""The cooperative: a producer shop with one collection point."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Integer
from sqlmodel import Field, SQLModel

from api.core.columns import created_at_field, id_field, updated_at_field


class Cooperative(SQLModel, table=True):
    """A producer cooperative and its collection point (2025 two-tier address)."""

    __tablename__ = "cooperatives"

    id: int | None = id_field()
    name: str = Field(max_length=200)
    phone: str = Field(max_length=20)
    province_code: int = Field(sa_column=Column(Integer, nullable=False, index=True))
    province_name: str = Field(max_length=100)
    ward_code: int = Field(sa_column=Column(Integer, nullable=False, index=True))
    ward_name: str = Field(max_length=100)
    street: str = Field(max_length=255)
    # Kept for carriers that still route by the pre-2025 district.
    legacy_district: str | None = Field(default=None, max_length=100)
    # Who collects this cooperative's parcels (viettel_post or ghn).
    carrier: str = Field(
        default="viettel_post", sa_column_kwargs={"server_default": "viettel_post"}, max_length=32
    )
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


def cooperative_fk(*, nullable: bool = False, index: bool = True) -> Column[int]:
    """A BIGINT foreign key to cooperatives.id (deleting a cooperative with data is refused)."""
    return Column(
        BigInteger,
        ForeignKey("cooperatives.id", ondelete="RESTRICT"),
        nullable=nullable,
        index=index,
    )
