"""The demo cooperative: a Lai Châu collective selling rice, tea, honey, ginseng, sweet potato."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.accounts.models import Role, User
from api.accounts.schemas import UserCreate
from api.accounts.service import create_user, issue_token
from api.catalogue.models import Variant
from api.catalogue.schemas import ProductCreate
from api.catalogue.service import create_product
from api.channels.models import ChannelConnection
from api.cooperatives.models import Cooperative
from api.cooperatives.schemas import CollectionPoint, CooperativeCreate
from api.cooperatives.service import create_cooperative
from integrations.simulators import shopee as shopee_sim
from integrations.simulators import tiktok_shop as tiktok_sim

DEMO_COOP = CooperativeCreate(
    name="HTX Nông sản Bình Lư",
    phone="0912345678",
    address=CollectionPoint(
        province="Lai Châu", ward="Xã Bình Lư", street="Bản Bình Lư, điểm tập kết"
    ),
)

DEMO_PRODUCTS: list[dict[str, object]] = [
    {"name": "Gạo Séng Cù Bình Lư", "category": "rice", "certifications": ["vietgap"],
     "ocop_stars": 4,
     "variants": [{"sku": "SENGCU-2KG", "unit_label": "túi 2 kg", "net_weight_g": 2000,
                   "shipping_weight_g": 2100, "price_vnd": 70000, "stock_on_hand": 1500},
                  {"sku": "SENGCU-5KG", "unit_label": "túi 5 kg", "net_weight_g": 5000,
                   "shipping_weight_g": 5200, "price_vnd": 165000, "stock_on_hand": 600}]},
    {"name": "Gạo ST25 Lai Châu", "category": "rice", "variants": [
        {"sku": "ST25-5KG", "unit_label": "túi 5 kg", "net_weight_g": 5000,
         "shipping_weight_g": 5200, "price_vnd": 180000, "stock_on_hand": 400}]},
    {"name": "Chè Shan tuyết Tả Phìn", "category": "tea", "ocop_stars": 3, "variants": [
        {"sku": "CHE-200G", "unit_label": "hộp 200 g", "net_weight_g": 200,
         "shipping_weight_g": 300, "price_vnd": 150000, "stock_on_hand": 800}]},
    {"name": "Mật ong hoa rừng", "category": "honey", "certifications": ["organic"], "variants": [
        {"sku": "MATONG-500", "unit_label": "hũ 500 g", "net_weight_g": 500,
         "shipping_weight_g": 800, "price_vnd": 220000, "stock_on_hand": 300}]},
    {"name": "Sâm Lai Châu", "category": "ginseng", "perishable": True, "variants": [
        {"sku": "SAM-LC-100G", "unit_label": "hộp 100 g củ tươi", "net_weight_g": 100,
         "shipping_weight_g": 250, "price_vnd": 3500000, "stock_on_hand": 50}]},
    {"name": "Khoai lang Bình Lư", "category": "vegetables", "perishable": True, "variants": [
        {"sku": "KHOAI-3KG", "unit_label": "thùng 3 kg", "net_weight_g": 3000,
         "shipping_weight_g": 3300, "price_vnd": 60000, "stock_on_hand": 1000}]},
]  # fmt: skip

DEMO_ADMIN_EMAIL = "admin@demo.phien.vn"
DEMO_SELLER_EMAIL = "seller@demo.phien.vn"


async def _user(session: AsyncSession, email: str, role: Role, coop_id: int | None) -> int:
    existing = (
        await session.execute(select(col(User.id)).where(col(User.email) == email))
    ).scalar()
    if existing is not None:
        return int(existing)
    user = await create_user(
        session, None, UserCreate(email=email, role=role, cooperative_id=coop_id, full_name="Demo")
    )
    assert user.id is not None
    return user.id


async def _connect_simulator_shops(session: AsyncSession, coop_id: int) -> None:
    """Connect the simulators' default shops, so a simulated live sale lands in the demo coop.

    A connection that exists keeps its tokens: tokens a simulator issued on a refresh are signed
    with its secret, so every later or side-by-side simulator process accepts them
    (`integrations.simulators._tokens`), and overwriting them would undo a refresh that another
    instance sharing this database made. Only a demo connection that has gone `reauth_required`,
    or whose refresh token no simulator would take (random tokens of a simulator from before the
    signed ones), gets the configured tokens back.
    """
    tiktok, shopee = tiktok_sim.TikTokShopSimConfig(), shopee_sim.ShopeeSimConfig()
    shops: list[tuple[str, str, str | None, str, str, Callable[[str], bool]]] = [
        ("tiktok_shop", tiktok_sim.DEFAULT_SHOP_ID, tiktok_sim.DEFAULT_SHOP_CIPHER,
         tiktok.access_token, tiktok.refresh_token,
         lambda token: tiktok_sim.accepts_refresh_token(tiktok, token)),
        ("shopee", str(shopee_sim.DEFAULT_SHOP_ID), None,
         shopee.access_token, shopee.refresh_token,
         lambda token: shopee_sim.accepts_refresh_token(shopee, token)),
    ]  # fmt: skip
    for platform, shop_id, cipher, access, refresh, accepted in shops:
        exists = (
            await session.execute(
                select(ChannelConnection).where(
                    col(ChannelConnection.platform) == platform,
                    col(ChannelConnection.shop_id) == shop_id,
                )
            )
        ).scalar()
        if exists is not None and (
            exists.status == "reauth_required" or not accepted(exists.refresh_token or "")
        ):
            exists.access_token, exists.refresh_token, exists.status = access, refresh, "active"
            exists.access_expires_at = exists.refresh_expires_at = None
        if exists is None:
            session.add(
                ChannelConnection(
                    cooperative_id=coop_id,
                    platform=platform,
                    shop_id=shop_id,
                    shop_name=f"Demo shop on the {platform} simulator",
                    shop_cipher=cipher,
                    access_token=access,
                    refresh_token=refresh,
                )
            )
    await session.flush()


async def seed_demo(session: AsyncSession) -> tuple[int, str]:
    """Create what is missing of the demo data; return the coop id and a fresh admin token."""
    coop_id = (
        await session.execute(
            select(col(Cooperative.id)).where(col(Cooperative.name) == DEMO_COOP.name)
        )
    ).scalar()
    if coop_id is None:
        coop = await create_cooperative(session, None, DEMO_COOP)
        assert coop.id is not None
        coop_id = coop.id
    have = set(
        (
            await session.execute(
                select(col(Variant.sku)).where(col(Variant.cooperative_id) == coop_id)
            )
        ).scalars()
    )
    for spec in DEMO_PRODUCTS:
        product = ProductCreate.model_validate(
            {**spec, "cooperative_id": coop_id, "status": "active"}
        )
        if not any(v.sku in have for v in product.variants):
            await create_product(session, None, product)
    await _connect_simulator_shops(session, int(coop_id))
    admin_id = await _user(session, DEMO_ADMIN_EMAIL, Role.ADMIN, None)
    await _user(session, DEMO_SELLER_EMAIL, Role.SELLER, int(coop_id))
    token = await issue_token(session, admin_id, name="demo")
    return int(coop_id), token
