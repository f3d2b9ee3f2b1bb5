"""Users, their roles, and the API tokens they authenticate with."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    ARRAY,
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Integer,
)
from sqlmodel import Field, SQLModel

from api.cooperatives.models import cooperative_fk
from api.core.columns import created_at_field, id_field


class Role(StrEnum):
    """What a user may do; scope per PRODUCT.md."""

    ADMIN = "admin"
    PROGRAM_MANAGER = "program_manager"
    COOP_ADMIN = "coop_admin"
    SELLER = "seller"
    LOGISTICS = "logistics"


COOP_ROLES = frozenset({Role.COOP_ADMIN, Role.SELLER})
ROLE_VALUES = ", ".join(f"'{r.value}'" for r in Role)


class User(SQLModel, table=True):
    """A person using Phiên; coop roles belong to exactly one cooperative."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(f"role IN ({ROLE_VALUES})", name="role_known"),
        CheckConstraint(
            "(role IN ('coop_admin', 'seller')) = (cooperative_id IS NOT NULL)",
            name="coop_roles_have_cooperative",
        ),
    )

    id: int | None = id_field()
    # Stored lower-cased (the schemas fold it), so a plain unique constraint is case-blind.
    email: str = Field(max_length=254, unique=True)
    full_name: str = Field(default="", max_length=200)
    role: str = Field(max_length=32)
    cooperative_id: int | None = Field(default=None, sa_column=cooperative_fk(nullable=True))
    # Logistics scope: province codes; NULL means every province.
    province_codes: list[int] | None = Field(
        default=None, sa_column=Column(ARRAY(Integer), nullable=True)
    )
    is_active: bool = True
    created_at: datetime = created_at_field()


class ApiToken(SQLModel, table=True):
    """A bearer token; only its SHA-256 is stored, the token itself is shown once."""

    __tablename__ = "api_tokens"

    id: int | None = id_field()
    user_id: int = Field(
        sa_column=Column(
            BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    token_hash: str = Field(max_length=64, unique=True)
    # The first characters, so a person can tell tokens apart without the secret.
    prefix: str = Field(max_length=16)
    name: str = Field(default="default", max_length=100)
    created_at: datetime = created_at_field()
    last_used_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    revoked_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
