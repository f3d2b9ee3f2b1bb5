"""`phien seed-demo` runs at every `make run`: the demo shops must keep working across restarts.

Each `make run` starts fresh simulators over a database that persists; a token refresh in one run
stores tokens that the next run's simulator (or a second instance's, beside it) must accept.
"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from sqlmodel import col

from api.channels.models import ChannelConnection
from api.core.db import Database
from integrations.platforms.shopee import ShopeeClient
from integrations.simulators.serve import serve_in_background
from integrations.simulators.shopee import DEFAULT_SHOP_ID, ShopeeSimConfig
from integrations.simulators.shopee import create_app as create_shopee_app
from workers.cli.demo import seed_demo

LINE = {"sku_id": "1", "seller_sku": "MATONG-500", "product_name": "Mật ong", "unit_price": 220000}


async def _seed(db: Database) -> None:
    async with db.session() as session:
        await seed_demo(session)
        await session.commit()


async def _demo_shopee(db: Database) -> ChannelConnection:
    async with db.session() as session:
        return (
            await session.execute(
                select(ChannelConnection).where(
                    col(ChannelConnection.platform) == "shopee",
                    col(ChannelConnection.shop_id) == str(DEFAULT_SHOP_ID),
                )
            )
        ).scalar_one()


async def _store(db: Database, access: str, refresh: str, status: str = "active") -> None:
    async with db.session() as session:
        connection = (
            await session.execute(
                select(ChannelConnection).where(col(ChannelConnection.platform) == "shopee")
            )
        ).scalar_one()
        connection.access_token, connection.refresh_token = access, refresh
        connection.status = status
        await session.commit()


async def test_the_demo_shop_works_after_a_refresh_and_a_restart(db: Database) -> None:
    config = ShopeeSimConfig()  # what `phien serve --simulators` starts
    await _seed(db)
    async with httpx.AsyncClient(timeout=10.0) as http:
        async with serve_in_background(create_shopee_app(config)) as first_run:
            api = ShopeeClient(http, first_run, config.partner_id, config.partner_key)
            seeded = await _demo_shopee(db)
            assert seeded.refresh_token is not None
            pair = await api.refresh_token(DEFAULT_SHOP_ID, seeded.refresh_token)
            await _store(db, pair.access_token, pair.refresh_token)
        await _seed(db)  # the next `make run`
        kept = await _demo_shopee(db)
        assert (kept.access_token, kept.status) == (pair.access_token, "active")
        async with serve_in_background(create_shopee_app(config)) as second_run:
            api = ShopeeClient(http, second_run, config.partner_id, config.partner_key)
            created = await http.post(
                f"{second_run}/_sim/orders", json={"lines": [LINE], "push": False}
            )
            order_sn = str(created.json()["order_id"])
            assert kept.access_token is not None
            assert kept.refresh_token is not None
            (order,) = await api.get_order_detail(DEFAULT_SHOP_ID, kept.access_token, [order_sn])
            assert order.order_id == order_sn
            newer = await api.refresh_token(DEFAULT_SHOP_ID, kept.refresh_token)
            await api.get_order_detail(DEFAULT_SHOP_ID, newer.access_token, [order_sn])


@pytest.mark.parametrize("status", ["reauth_required", "active"])
async def test_seed_demo_revives_a_demo_shop_whose_tokens_no_simulator_takes(
    db: Database, status: str
) -> None:
    # Random tokens of a simulator from before the signed ones: refused, or about to be.
    await _seed(db)
    await _store(db, "lost-access", "0123456789abcdef0123456789abcdef", status=status)
    await _seed(db)
    revived = await _demo_shopee(db)
    config = ShopeeSimConfig()
    assert (revived.access_token, revived.refresh_token, revived.status) == (
        config.access_token,
        config.refresh_token,
        "active",
    )
