"""Arrange data through the real services (no shortcuts into the tables)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from api.accounts.models import Role
from api.accounts.schemas import UserCreate
from api.accounts.service import create_user, issue_token
from api.catalogue.schemas import ProductCreate, ProductRead
from api.catalogue.service import create_product
from api.cooperatives.schemas import CollectionPoint, CooperativeCreate
from api.cooperatives.service import create_cooperative
from api.core.db import Database

_seq = itertools.count(1)


@dataclass
class Member:
    """A user and their bearer token."""

    user_id: int
    token: str
    role: Role

    @property
    def headers(self) -> dict[str, str]:
        """Authorization header for this user."""
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class World:
    """Coop A (Lai Châu) and coop B (Đắk Lắk), a product in each, and users of every role."""

    coop_a: int
    coop_b: int
    product_a: ProductRead
    product_b: ProductRead
    users: dict[str, Member]


def product_spec(cooperative_id: int, name: str = "Gạo ST25", stock: int = 100) -> ProductCreate:
    """A product with one variant and a unique SKU."""
    n = next(_seq)
    return ProductCreate.model_validate(
        {
            "cooperative_id": cooperative_id,
            "name": name,
            "category": "rice",
            "status": "active",
            "variants": [
                {
                    "sku": f"SKU-{n}",
                    "unit_label": "túi 5 kg",
                    "net_weight_g": 5000,
                    "shipping_weight_g": 5200,
                    "price_vnd": 180000,
                    "stock_on_hand": stock,
                }
            ],
        }
    )


async def add_member(
    db: Database,
    role: Role,
    cooperative_id: int | None = None,
    provinces: list[int] | None = None,
) -> Member:
    """Create a user of `role` with a token."""
    async with db.session() as session:
        data = UserCreate(
            email=f"{role.value}{next(_seq)}@test.phien.vn",
            role=role,
            cooperative_id=cooperative_id,
            province_codes=provinces,
        )
        user = await create_user(session, None, data)
        assert user.id is not None
        token = await issue_token(session, user.id)
        await session.commit()
        return Member(user.id, token, role)


async def build_world(db: Database) -> World:
    """The standard cast for authorisation and catalogue tests."""
    async with db.session() as session:
        a = await create_cooperative(
            session,
            None,
            CooperativeCreate(
                name="HTX Bình Lư",
                phone="0912345678",
                address=CollectionPoint(province="Lai Châu", ward="Xã Bình Lư", street="Bản 1"),
            ),
        )
        b = await create_cooperative(
            session,
            None,
            CooperativeCreate(
                name="HTX Xuân Lãnh",
                phone="0987654321",
                address=CollectionPoint(province="Đắk Lắk", ward="Xã Xuân Lãnh", street="Thôn 2"),
            ),
        )
        assert a.id is not None
        assert b.id is not None
        product_a = await create_product(session, None, product_spec(a.id, "Gạo Séng Cù"))
        product_b = await create_product(session, None, product_spec(b.id, "Cà phê rang củi"))
        await session.commit()
        a_id, b_id, a_province = a.id, b.id, a.province_code
    users = {
        "admin": await add_member(db, Role.ADMIN),
        "program_manager": await add_member(db, Role.PROGRAM_MANAGER),
        "coop_admin": await add_member(db, Role.COOP_ADMIN, a_id),
        "seller": await add_member(db, Role.SELLER, a_id),
        "logistics": await add_member(db, Role.LOGISTICS, provinces=[a_province]),
    }
    return World(a_id, b_id, product_a, product_b, users)
